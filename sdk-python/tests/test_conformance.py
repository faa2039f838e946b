"""The native helper against conformance/okta-requests.json, the vectors the host's contract
test and the Rust and JavaScript SDKs read too: what a strategy reads from each Okta request,
or that no strategy runs on it."""

import json
from pathlib import Path

import pytest

from importhook_sdk import Json, Number, Request

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "conformance" / "okta-requests.json").read_text(encoding="utf-8"))


def tagged(value):
    """A value in the vectors' tagged form."""
    if value is None:
        return {"tag": "null"}
    if isinstance(value, bool):
        return {"tag": "boolean", "val": value}
    if isinstance(value, int):
        return {"tag": "integer", "val": value}
    if isinstance(value, Number):
        return {"tag": "number", "val": value.value}
    if isinstance(value, float):
        return {"tag": "number", "val": value}
    if isinstance(value, str):
        return {"tag": "text", "val": value}
    if isinstance(value, Json):
        return {"tag": "json", "val": value.text}
    return {"tag": "list", "val": [tagged(v) for v in value]}


def reads(request):
    app, job = request.application(), request.job()
    return {
        "eventId": request.event_id(),
        "action": request.action().value,
        "linkTarget": request.link_target(),
        "matchedUserId": request.matched_user_id(),
        "conflicts": request.conflicts(),
        "policy": request.policy(),
        "matches": [tagged(m) for m in request.matches()],
        "matchIds": request.match_ids(),
        "application": app and {"id": app.id, "name": app.name, "label": app.label, "status": app.status},
        "job": job and {"id": job.id, "kind": job.kind},
        "appUser": [[name, tagged(value)] for name, value in request.app_user().items()],
        "user": [[name, tagged(value)] for name, value in request.user().items()],
    }


CASES = VECTORS["cases"]


def test_there_are_vectors_of_both_kinds():
    assert sum("reads" in c for c in CASES) >= 3 and sum("refused" in c for c in CASES) >= 10


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_okta_request_reads_as_the_vectors_say(case):
    body = json.dumps(case["body"])
    if "refused" in case:
        with pytest.raises(ValueError):
            Request.from_okta_json(body)
    else:
        assert reads(Request.from_okta_json(body)) == case["reads"]


VALUES = json.loads((Path(__file__).resolve().parents[2] / "conformance" / "json-values.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", VALUES["cases"], ids=[c["json"] for c in VALUES["cases"]])
def test_json_values_map_as_the_vectors_say(case):
    """The JSON-to-WIT value rule of conformance/json-values.json, which the other SDKs read too."""
    body = json.dumps({"data": {"action": {"result": "CREATE_USER"}, "appUser": {"profile": {"v": json.loads(case["json"])}}}})
    assert tagged(Request.from_okta_json(body).app_user().get("v")) == case["value"]
