import re
from pathlib import Path

import pytest

from dataclasses import dataclass
from typing import List, Literal, Optional

import pytest

from importhook_sdk import INTERFACE_VERSION, Action, Decision, Json, NoConfig, Number, Outcome, Request, StrategyError, load_config, log, read_config
from importhook_sdk.values import check

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = {
    "eventId": "ev1",
    "eventType": "com.okta.import.transform",
    "data": {
        "context": {
            "conflicts": ["login"],
            "matches": ["00u1", {"id": "00u2"}, {"x": 1}, 7],
            "policy": ["EMAIL"],
            "application": {"id": "0oa1", "name": "csv", "label": "CSV", "status": "ACTIVE"},
            "job": {"id": "ij1", "type": "import:users"},
        },
        "action": {"result": "LINK_USER"},
        "appUser": {"profile": {"middleName": "Alexander", "groups": ["a", "b"], "age": 40, "ratio": 0.5, "vip": True, "x": None, "nested": [[1]]}},
        "user": {"id": "00u9", "profile": {"login": "george.smith@example.com"}},
    },
}


def test_okta_json_becomes_a_typed_request():
    import json

    request = Request.from_okta_json(json.dumps(SAMPLE))
    assert request.event_id() == "ev1"
    app = request.app_user()
    assert app.text("middleName") == "Alexander"
    assert app.integer("age") == 40
    assert app.integer("ratio") is None
    assert app.number("ratio") == 0.5
    assert app.boolean("vip") is True
    assert app.integer("vip") is None
    assert app.get("x") is None and app.has("x") and "x" in app
    assert app.get("missing", "absent") == "absent" and not app.has("missing")
    assert app.text("age") is None
    assert app.get("groups") == ["a", "b"]
    assert app.get("nested") == Json("[[1]]") and app.get("nested").parse() == [[1]]
    assert app.names() == ["middleName", "groups", "age", "ratio", "vip", "x", "nested"]
    assert app.changed() == [] and not app.was_changed("middleName")
    assert request.user().text("login") == "george.smith@example.com"
    assert request.action() is Action.LINK_USER
    assert request.link_target() == "00u9" == request.matched_user_id()
    assert request.has_conflict("login") and not request.has_conflict("email")
    assert request.match_ids() == ["00u1", "00u2"]
    assert request.policy() == ["EMAIL"]
    assert request.application().label == "CSV"
    assert request.job().kind == "import:users"
    assert "Alexander" not in repr(request) + repr(app)


def test_a_create_request_has_no_link_target_and_a_request_without_an_action_is_refused():
    create = {**SAMPLE, "data": {**SAMPLE["data"], "action": {"result": "CREATE_USER"}}}
    assert Request.from_okta_json(create).link_target() is None
    with pytest.raises(ValueError, match="CREATE_USER or LINK_USER"):
        Request.from_okta_json({"data": {}})
    with pytest.raises(ValueError):
        Request.from_okta_json("not json")


def test_outcome_builder_replaces_repeated_names_and_keeps_order():
    outcome = Outcome().set_user("login", "a").set_user("email", "b").set_user("login", "c").set_app_user("n", 3).link_user("00u1").set_note("linked")
    assert outcome.user_updates() == [("login", "c"), ("email", "b")]
    assert outcome.app_user_update("n") == 3
    assert outcome.decision == Decision("link-user", "00u1")
    assert outcome.note == "linked"
    assert not outcome.is_empty()
    assert Outcome().set_note("x").is_empty()
    assert Outcome().create_user().decision == Decision("create-user")


def test_values_map_to_the_contract_as_the_host_maps_json():
    assert check({"a": [1]}) == Json('{"a":[1]}')
    assert check([[1]]) == Json("[[1]]")
    assert check(("a", 1, None)) == ["a", 1, None]
    assert check(Number(2.0)) == Number(2.0)
    with pytest.raises(TypeError, match="64 bits"):
        check(2**64)
    with pytest.raises(TypeError, match="not a JSON number"):
        check(float("nan"))
    with pytest.raises(TypeError):
        check(object())
    huge = Request.from_okta_json({"data": {"action": {"result": "CREATE_USER"}, "appUser": {"profile": {"n": 2**70}}}})
    assert huge.app_user().get("n") == Json(str(2**70))


@dataclass(frozen=True)
class Settings:
    attribute: str = "lastName"
    strict: bool = False
    limit: int = 3
    ratio: float = 0.5
    when: Literal["leave", "error"] = "leave"
    extra: Optional[str] = None
    names: List[str] = ()


def test_a_config_table_reads_into_the_dataclass_with_defaults_and_refuses_what_it_does_not_know():
    assert read_config(Settings, []) == Settings()
    read = read_config(Settings, [("strict", True), ("limit", 5), ("ratio", 2), ("when", "error"), ("names", ["a"])])
    assert read == Settings(strict=True, limit=5, ratio=2, when="error", names=["a"])
    for entries, message in [
        ([("atribute", "x")], 'unknown key "atribute" (known: attribute, strict, limit, ratio, when, extra, names)'),
        ([("attribute", 3)], "attribute must be a string, not 3"),
        ([("limit", True)], "limit must be an integer, not true"),
        ([("limit", "4")], 'limit must be an integer, not "4"'),
        ([("when", "bogus")], 'when must be "leave" or "error", not "bogus"'),
        ([("names", ["a", 1])], "names must be a list of strings"),
    ]:
        with pytest.raises(StrategyError) as refused:
            read_config(Settings, entries)
        assert message in str(refused.value)
    # Without a Config, no key is taken.
    assert read_config(None, []) == NoConfig()
    with pytest.raises(StrategyError, match='unknown key "k" \\(known: none\\)'):
        read_config(None, [("k", "v")])


def test_load_config_reads_then_runs_the_strategy_s_own_check():
    class Strategy:
        Config = Settings

        def validate_config(self, settings):
            if settings.limit == 7:
                raise StrategyError("not seven")

    assert load_config(Strategy(), {"limit": 2}).limit == 2
    assert load_config(Strategy()).limit == 3
    with pytest.raises(StrategyError, match="not seven"):
        load_config(Strategy(), {"limit": 7})


def test_log_lines_go_to_the_sink_with_their_level():
    lines = []
    log.set_sink(lambda level, message: lines.append((level, message)))
    try:
        log.info("hello")
        log.warn(42)
    finally:
        log.reset_sink()
    assert lines == [("info", "hello"), ("warn", "42")]


def test_the_sdk_speaks_the_repository_wit_version():
    wit = (ROOT / "plugin-sdk/wit/importhook.wit").read_text()
    version = re.search(r"^package importhook:plugin@([0-9.]+);", wit, re.M).group(1)
    assert INTERFACE_VERSION == version
