"""The imported user as a strategy sees it: typed accessors over a source, which is the
host's request resource inside a plugin and Okta's JSON in native tests. Values are read on
demand: a strategy pays only for what it reads."""

from __future__ import annotations

from typing import Any, Iterator, List, Optional, Tuple

from .okta_json import OktaJson
from .source import MISSING, Action, Application, Job, ProfileKind, Source
from .values import Json, Value

class Profile:
    """A read-only view of one profile. Each read asks the source for that one value."""

    def __init__(self, source: Source, kind: ProfileKind):
        self._source = source
        self.kind = kind

    def __repr__(self) -> str:  # never the values: they hold personal data
        return f"Profile({self.kind.value})"

    def get(self, name: str, default: Any = None) -> Value:
        """The value of ``name``; ``default`` when absent (a JSON null is ``None`` too: see ``has``)."""
        value = self._source.get(self.kind, name)
        return default if value is MISSING else value

    def has(self, name: str) -> bool:
        """True when the profile has ``name`` (even as null)."""
        return self._source.get(self.kind, name) is not MISSING

    __contains__ = has

    def text(self, name: str) -> Optional[str]:
        """The text value of ``name``; None when absent, null or not text."""
        value = self.get(name)
        return value if isinstance(value, str) else None

    def boolean(self, name: str) -> Optional[bool]:
        """The boolean value of ``name``."""
        value = self.get(name)
        return value if isinstance(value, bool) else None

    def integer(self, name: str) -> Optional[int]:
        """The integer value of ``name``."""
        value = self.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def number(self, name: str) -> Optional[float]:
        """The number value of ``name`` (integer or not)."""
        value = self.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)

    def names(self) -> List[str]:
        """The attribute names, in Okta's order."""
        return self._source.names(self.kind)

    def changed(self) -> List[str]:
        """The attributes the strategies before this one changed, in first-change order."""
        return self._source.changed(self.kind)

    def was_changed(self, name: str) -> bool:
        """True when a strategy before this one changed ``name``."""
        return name in self.changed()

    def items(self) -> Iterator[Tuple[str, Value]]:
        """All ``(name, value)`` pairs, in Okta's order (reads every value: prefer ``get``)."""
        for name in self.names():
            value = self._source.get(self.kind, name)
            if value is not MISSING:
                yield name, value


class Request:
    """One imported user: Okta's request, with earlier strategies' changes applied."""

    def __init__(self, source: Source):
        self._source = source

    def __repr__(self) -> str:  # never the profiles: they hold personal data
        return f"Request(event_id={self.event_id()!r})"

    @classmethod
    def from_okta_json(cls, body: Any) -> "Request":
        """A request from the JSON body Okta sends (text, bytes or the parsed dict), exactly
        as the host presents it to the first plugin. For native unit tests."""

        return cls(OktaJson(body))

    def event_id(self) -> str:
        """Okta's id of this hook call."""
        return self._source.event_id()

    def app_user(self) -> Profile:
        """The app user profile (``data.appUser.profile``), e.g. the CSV columns."""
        return Profile(self._source, ProfileKind.APP_USER)

    def user(self) -> Profile:
        """The projected Okta user profile (``data.user.profile``)."""
        return Profile(self._source, ProfileKind.USER)

    def matched_user_id(self) -> Optional[str]:
        """The existing Okta user the import matched (``data.user.id``), if any."""
        return self._source.matched_user_id()

    def action(self) -> Action:
        """The current action."""
        return self._source.action()

    def link_target(self) -> Optional[str]:
        """The Okta user the import will link to, when the action is LINK_USER."""
        return self._source.link_target()

    def conflicts(self) -> List[str]:
        """Attributes in conflict (``data.context.conflicts``), e.g. ``["login"]``."""
        return self._source.conflicts()

    def has_conflict(self, attribute: str) -> bool:
        """True when ``attribute`` is among the conflicts."""
        return attribute in self.conflicts()

    def matches(self) -> List[Value]:
        """``data.context.matches`` as Okta sent them (ids are ``str``, objects :class:`Json`)."""
        return self._source.matches()

    def match_ids(self) -> List[str]:
        """The Okta user ids of ``data.context.matches``: ids, or objects with a string ``id``."""
        ids = []
        for match in self.matches():
            found: Any = match
            if isinstance(match, Json):
                try:
                    parsed = match.parse()
                except ValueError:
                    parsed = None
                found = parsed.get("id") if isinstance(parsed, dict) else None
            if isinstance(found, str) and found:
                ids.append(found)
        return ids

    def policy(self) -> List[str]:
        """``data.context.policy``."""
        return self._source.policy()

    def application(self) -> Optional[Application]:
        """``data.context.application``."""
        return self._source.application()

    def job(self) -> Optional[Job]:
        """``data.context.job``."""
        return self._source.job()
