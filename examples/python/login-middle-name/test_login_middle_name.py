"""Native unit tests of the strategy: ``pytest``, no wasm built."""

import pytest

from importhook_sdk import Request, StrategyError, load_config
from login_middle_name import strategy


def request(action="CREATE_USER", conflicts=("login",), middle="Alexander", login="george.smith@example.com"):
    return Request.from_okta_json({
        "eventId": "e",
        "data": {
            "context": {"conflicts": list(conflicts)},
            "action": {"result": action},
            "appUser": {"profile": {"middleName": middle, "nickName": "Alex"}},
            "user": {"profile": {"login": login}},
        },
    })


def run(config=None, **options):
    return strategy.transform(request(**options), config or load_config(strategy))


def test_okta_guide_example():
    outcome = run()
    assert outcome.user_update("login") == "george.alexander.smith@example.com"
    # A login the host would refuse (as Okta would) fails here first.
    assert outcome.check_login("email") is None


def test_surrounding_whitespace_is_left_out_of_the_proposal():
    outcome = run(login=" george.smith@example.com ")
    assert outcome.user_update("login") == "george.alexander.smith@example.com"
    assert outcome.check_login("email") is None


def test_no_conflict_means_no_change():
    assert run(conflicts=()).is_empty()


def test_multi_word_middle_names_and_logins_without_dots():
    assert run(middle=" Mary  Ann ", login="jo@example.com").user_update("login") == "jo.mary.ann@example.com"


def test_missing_middle_name_is_configurable():
    assert run(middle=None).is_empty()
    with pytest.raises(StrategyError):
        run(load_config(strategy, {"when_missing": "error"}), middle=None)


def test_attribute_names_are_configurable():
    outcome = run(load_config(strategy, {"middle_name_attribute": "nickName"}), middle=None)
    assert outcome.user_update("login") == "george.alex.smith@example.com"


def test_a_retry_does_not_infix_twice():
    assert run(login="george.alexander.smith@example.com").is_empty()


def test_a_user_okta_will_link_keeps_its_login():
    assert run(action="LINK_USER").is_empty()


def test_the_middle_name_is_normalized_like_the_login():
    assert run(middle="Élodie", login="sally.admin@example.com").user_update("login") == "sally.elodie.admin@example.com"
    assert run(middle="Jean-Luc O'Neil!").user_update("login") == "george.jean-luc.oneil.smith@example.com"


def test_a_blank_login_is_never_rewritten():
    assert run(login="   ").user_update("login") is None


def test_a_wrong_or_misspelled_config_is_refused():
    load_config(strategy)
    with pytest.raises(StrategyError, match="when_missing"):
        load_config(strategy, {"when_missing": "skip"})
    with pytest.raises(StrategyError, match="must be a string"):
        load_config(strategy, {"login_attribute": True})
    with pytest.raises(StrategyError, match="unknown key"):
        load_config(strategy, {"middle_name_atribute": "x"})
