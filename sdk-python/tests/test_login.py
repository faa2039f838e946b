from importhook_sdk.login import fold, is_alphanumeric, is_blank, join, slug, split


def test_split_and_join_at_the_last_at_sign():
    assert split("a.b@x.io") == ("a.b", "x.io")
    assert split('"a@b"@x.io') == ('"a@b"', "x.io")
    assert split("nodomain") == ("nodomain", None)
    assert join("a", "x.io") == "a@x.io"
    assert join("a", None) == "a"


def test_fold_strips_space_diacritics_and_case_whatever_the_unicode_form():
    assert fold("  José.Núñez@Example.COM ") == "jose.nunez@example.com"
    assert fold("Cafe\u0301") == fold("Café")
    assert fold("Straße") == "straße"
    assert fold("Søren") == "søren"
    assert fold("\u212b") == "a"


def test_slugs_are_login_safe():
    assert slug(" Mary  Ann ") == "mary.ann"
    assert slug("Élodie") == "elodie"
    assert slug("Jean-Luc O'Neil!") == "jean-luc.oneil"
    assert slug(" !? ") == ""
    assert is_blank("  \t") and not is_blank(" a ")


def test_alphanumeric_is_rust_s():
    assert is_alphanumeric("é") and is_alphanumeric("٣") and is_alphanumeric("Ⓐ")
    assert not is_alphanumeric("!") and not is_alphanumeric("'") and not is_alphanumeric("\u0301")
