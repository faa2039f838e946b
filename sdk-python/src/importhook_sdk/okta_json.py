"""The native source: Okta's JSON body, parsed once, read the way the host reads its request
for the first plugin (the same value mapping, the same link target rule)."""

from __future__ import annotations

import json
from typing import Any, List, Optional

from .source import MISSING, Action, Application, Job, ProfileKind
from .values import Value, from_okta_json


#: The event type of a user import hook; the host answers 400 to any other.
EVENT_TYPE = "com.okta.import.transform"


class _Reader:
    """Reads Okta's JSON by the host's lenient rules (``importhook-okta``): a ``null`` or absent
    member reads as empty, and a member of a type Okta does not document is noted by its path
    (the host then passes the request through without running any strategy)."""

    def __init__(self) -> None:
        self.irregular: List[str] = []

    def note(self, path: str) -> None:
        if path not in self.irregular:
            self.irregular.append(path)

    def object(self, x: Any, path: str) -> dict:
        if x is None:
            return {}
        if isinstance(x, dict):
            return x
        self.note(path)
        return {}

    def string(self, x: Any, path: str) -> Optional[str]:
        if x is None or isinstance(x, str):
            return x
        self.note(path)
        return None

    def list(self, x: Any, path: str) -> list:
        if x is None:
            return []
        if isinstance(x, list):
            return x
        self.note(path)
        return []

    def strings(self, x: Any, path: str) -> List[str]:
        """A list of strings; ``null`` elements are dropped, other non-strings are irregular."""
        return [s for s in (self.string(i, path) for i in self.list(x, path)) if s is not None]


class OktaJson:
    """A request body Okta sent, for native tests. A body the host would not hand to a strategy
    (another event type, an action that is missing or unknown, a value of a type Okta does not
    document) raises ``ValueError`` with the reason, so a test cannot pass on input no plugin
    would ever see."""

    def __init__(self, body: Any):
        doc = json.loads(body) if isinstance(body, (str, bytes, bytearray)) else body
        if not isinstance(doc, dict):
            raise ValueError("an Okta import hook request is a JSON object")
        read = _Reader()
        self._event_id = read.string(doc.get("eventId"), "eventId") or ""
        event_type = doc.get("eventType")
        if event_type is not None and event_type != EVENT_TYPE:
            raise ValueError(f"eventType must be {EVENT_TYPE}: the host answers 400 and runs no strategy")
        read.string(doc.get("eventTime"), "eventTime")
        version = doc.get("eventTypeVersion")
        if not isinstance(version, (int, float)) or isinstance(version, bool):
            read.string(version, "eventTypeVersion")
        read.string(doc.get("source"), "source")
        data = read.object(doc.get("data"), "data")
        app_user = read.object(data.get("appUser"), "data.appUser")
        user = read.object(data.get("user"), "data.user")
        action = read.object(data.get("action"), "data.action")
        context = read.object(data.get("context"), "data.context")
        result = action.get("result")
        if result is not None and not isinstance(result, str):
            read.note("data.action.result")
            result = None
        self._profiles = {
            ProfileKind.APP_USER: read.object(app_user.get("profile"), "data.appUser.profile"),
            ProfileKind.USER: read.object(user.get("profile"), "data.user.profile"),
        }
        self._matched = read.string(user.get("id"), "data.user.id")
        self._application = self._read_application(read, context.get("application"))
        self._job = self._read_job(read, context.get("job"))
        self._conflicts = read.strings(context.get("conflicts"), "data.context.conflicts")
        self._matches = read.list(context.get("matches"), "data.context.matches")
        self._policy = read.strings(context.get("policy"), "data.context.policy")
        actions = {"CREATE_USER": Action.CREATE_USER, "LINK_USER": Action.LINK_USER}
        passed_through = "the host passes this request through without running any strategy"
        if read.irregular:
            raise ValueError(f"{passed_through} (unexpected_shape: {read.irregular[0]})")
        if result not in actions:
            why = "missing_action" if result is None else "unknown_action"
            raise ValueError(f"data.action.result must be CREATE_USER or LINK_USER, not {result!r}: {passed_through} ({why})")
        self._action = actions[result]

    @staticmethod
    def _read_application(read: _Reader, app: Any) -> Optional[Application]:
        if app is None:
            return None
        if not isinstance(app, dict):
            read.note("data.context.application")
            return None
        field = lambda name: read.string(app.get(name), f"data.context.application.{name}") or ""  # noqa: E731
        return Application(field("id"), field("name"), field("label"), field("status"))

    @staticmethod
    def _read_job(read: _Reader, job: Any) -> Optional[Job]:
        if job is None:
            return None
        if not isinstance(job, dict):
            read.note("data.context.job")
            return None
        return Job(read.string(job.get("id"), "data.context.job.id") or "", read.string(job.get("type"), "data.context.job.type") or "")

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
        return list(self._conflicts)

    def matches(self) -> List[Value]:
        return [from_okta_json(m) for m in self._matches]

    def policy(self) -> List[str]:
        return list(self._policy)

    def application(self) -> Optional[Application]:
        return self._application

    def job(self) -> Optional[Job]:
        return self._job
