"""Where a :class:`~importhook_sdk.request.Request` reads from, and the small types it hands
out: the host's request resource inside a plugin, Okta's JSON in native tests."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, List, Optional, Protocol

from .values import Value

#: What a source's ``get`` returns for an attribute the profile does not have.
MISSING: Any = object()


class Action(Enum):
    """What Okta will do with the imported user."""

    CREATE_USER = "create-user"
    LINK_USER = "link-user"


class ProfileKind(Enum):
    """Which of the two profiles."""

    APP_USER = "app-user"
    USER = "user"


@dataclass(frozen=True)
class Application:
    """``data.context.application``."""

    id: str
    name: str
    label: str
    status: str


@dataclass(frozen=True)
class Job:
    """``data.context.job`` (``kind`` is Okta's ``type``)."""

    id: str
    kind: str


class Source(Protocol):
    """Where a :class:`Request` reads from: the host's resource, or Okta's JSON in tests."""

    def event_id(self) -> str: ...
    def get(self, profile: ProfileKind, name: str) -> Any: ...  # a value, or MISSING
    def names(self, profile: ProfileKind) -> List[str]: ...
    def changed(self, profile: ProfileKind) -> List[str]: ...
    def matched_user_id(self) -> Optional[str]: ...
    def action(self) -> Action: ...
    def link_target(self) -> Optional[str]: ...
    def conflicts(self) -> List[str]: ...
    def matches(self) -> List[Value]: ...
    def policy(self) -> List[str]: ...
    def application(self) -> Optional[Application]: ...
    def job(self) -> Optional[Job]: ...
