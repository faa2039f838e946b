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


# The vectors the host and the Rust and JavaScript SDKs read too.
import json
from pathlib import Path

import pytest

from importhook_sdk import Outcome
from importhook_sdk.login import LOGIN_PROBLEMS, check, equivalent

CONFORMANCE = Path(__file__).resolve().parents[2] / "conformance"


def _vectors(name):
    return json.loads((CONFORMANCE / name).read_text(encoding="utf-8"))


def test_okta_login_equivalence_matches_the_shared_vectors():
    vectors = _vectors("login-equivalence.json")
    assert len(vectors["equivalent"]) >= 10
    for a, b in vectors["equivalent"]:
        assert equivalent(a) == equivalent(b), (a, b)
    for a, b in vectors["distinct"]:
        assert equivalent(a) != equivalent(b), (a, b)
    for login, key in vectors["keys"]:
        assert equivalent(login) == key, login


def test_what_okta_accepts_as_a_login_matches_the_shared_vectors():
    cases = _vectors("login-acceptance.json")["cases"]
    assert len(cases) >= 30
    for case in cases:
        assert check(case["login"], "email") == case["email"], (case["login"], "email")
        assert check(case["login"], "any") == case["any"], (case["login"], "any")
    with pytest.raises(ValueError):
        check("a@b.c", "upn")


def test_an_outcome_with_a_login_okta_would_refuse_fails_the_host_s_check_natively():
    assert Outcome().check_login() is None
    assert Outcome().set_user("login", "ann.lee@example.com").check_login() is None
    assert Outcome().set_user("login", "ann.lee").check_login() == LOGIN_PROBLEMS["not_email"]
    assert Outcome().set_user("login", "ann.lee").check_login("any") is None
    assert Outcome().set_user("login", "Joe\x07@x.io").check_login("any") == LOGIN_PROBLEMS["control_character"]
    assert Outcome().set_user("login", 7).check_login() == "the user profile login must be text"
