"""The native source: Okta's JSON body, parsed once, read the way the host reads its request
for the first plugin (the same value mapping, the same link target rule)."""

from __future__ import annotations

import json
from typing import Any, List, Optional

from .request import MISSING, Action, Application, Job, ProfileKind
from .values import Value, from_okta_json


def _object(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


def _strings(x: Any) -> List[str]:
    return [s for s in x if isinstance(s, str)] if isinstance(x, list) else []


def _text(x: Any) -> str:
    return x if isinstance(x, str) else ""


class OktaJson:
    """A request body Okta sent, for native tests."""

    def __init__(self, body: Any):
        doc = json.loads(body) if isinstance(body, (str, bytes, bytearray)) else body
        doc = _object(doc)
        data = _object(doc.get("data"))
        result = _object(data.get("action")).get("result")
        actions = {"CREATE_USER": Action.CREATE_USER, "LINK_USER": Action.LINK_USER}
        if result not in actions:
            raise ValueError(f"data.action.result must be CREATE_USER or LINK_USER, not {result!r}")
        self._action = actions[result]
        self._event_id = _text(doc.get("eventId"))
        user = _object(data.get("user"))
        self._profiles = {
            ProfileKind.APP_USER: _object(_object(data.get("appUser")).get("profile")),
            ProfileKind.USER: _object(user.get("profile")),
        }
        self._matched = user.get("id") if isinstance(user.get("id"), str) else None
        self._context = _object(data.get("context"))

    def event_id(self) -> str:
        return self._event_id

    def get(self, profile: ProfileKind, name: str) -> Any:
        values = self._profiles[profile]
        return from_okta_json(values[name]) if name in values else MISSING

    def names(self, profile: ProfileKind) -> List[str]:
        return list(self._profiles[profile])

    def changed(self, profile: ProfileKind) -> List[str]:
        # Okta's request as the first strategy sees it: nothing changed yet.
        return []

    def matched_user_id(self) -> Optional[str]:
        return self._matched

    def action(self) -> Action:
        return self._action

    def link_target(self) -> Optional[str]:
        return self._matched if self._action is Action.LINK_USER else None

    def conflicts(self) -> List[str]:
        return _strings(self._context.get("conflicts"))

    def matches(self) -> List[Value]:
        matches = self._context.get("matches")
        return [from_okta_json(m) for m in matches] if isinstance(matches, list) else []

    def policy(self) -> List[str]:
        return _strings(self._context.get("policy"))

    def application(self) -> Optional[Application]:
        app = self._context.get("application")
        if not isinstance(app, dict):
            return None
        return Application(_text(app.get("id")), _text(app.get("name")), _text(app.get("label")), _text(app.get("status")))

    def job(self) -> Optional[Job]:
        job = self._context.get("job")
        if not isinstance(job, dict):
            return None
        return Job(_text(job.get("id")), _text(job.get("type")))
