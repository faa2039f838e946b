from importhook_sdk.login import fold, is_alphanumeric, is_blank, join, slug, split


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


def test_fold_slug_split_and_blank_match_the_shared_vectors():
    """The cases of conformance/login-normalize.json, which the Rust and JavaScript SDKs read too."""
    vectors = json.loads((CONFORMANCE / "login-normalize.json").read_text(encoding="utf-8"))
    for key in ("fold", "slug", "split", "blank"):
        assert vectors[key], key
    for text, folded in vectors["fold"]:
        assert fold(text) == folded, text
    for text, slugged in vectors["slug"]:
        assert slug(text) == slugged, text
    for login, local, domain in vectors["split"]:
        assert split(login) == (local, domain), login
        assert join(local, domain) == login
    for text, blank in vectors["blank"]:
        assert is_blank(text) == blank, repr(text)
