"""What a strategy returns: attribute updates, a decision and a note, built fluently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

from . import login as _login
from .values import Value, check


@dataclass(frozen=True)
class Decision:
    """``kind`` is ``"create-user"`` or ``"link-user"`` (then ``user_id`` is set)."""

    kind: str
    user_id: Optional[str] = None


def _upsert(updates: List[Tuple[str, Value]], name: str, value: Value) -> None:
    for i, (existing, _) in enumerate(updates):
        if existing == name:
            updates[i] = (name, value)
            return
    updates.append((name, value))


class Outcome:
    """The changes a strategy asks for. An empty outcome changes nothing."""

    def __init__(self) -> None:
        self._app_user: List[Tuple[str, Value]] = []
        self._user: List[Tuple[str, Value]] = []
        self._decision: Optional[Decision] = None
        self._note: Optional[str] = None

    def set_app_user(self, name: str, value: Any) -> "Outcome":
        """Sets an attribute of the app user profile (``com.okta.appUser.profile.update``)."""
        _upsert(self._app_user, name, check(value, f"app user {name}"))
        return self

    def set_user(self, name: str, value: Any) -> "Outcome":
        """Sets an attribute of the Okta user profile (``com.okta.user.profile.update``)."""
        _upsert(self._user, name, check(value, f"user {name}"))
        return self

    def create_user(self) -> "Outcome":
        """Decides to create a new Okta user."""
        self._decision = Decision("create-user")
        return self

    def link_user(self, user_id: str) -> "Outcome":
        """Decides to link the imported user to the existing Okta user ``user_id``."""
        self._decision = Decision("link-user", str(user_id))
        return self

    def set_note(self, text: str) -> "Outcome":
        """Adds a short note to the host's per-plugin report. Never put personal data in it."""
        self._note = str(text)
        return self

    def app_user_update(self, name: str) -> Optional[Value]:
        """The app user update for ``name``, if any."""
        return next((v for n, v in self._app_user if n == name), None)

    def user_update(self, name: str) -> Optional[Value]:
        """The Okta user update for ``name``, if any."""
        return next((v for n, v in self._user if n == name), None)

    def app_user_updates(self) -> List[Tuple[str, Value]]:
        """All app user updates, in order."""
        return list(self._app_user)

    def user_updates(self) -> List[Tuple[str, Value]]:
        """All Okta user updates, in order."""
        return list(self._user)

    @property
    def decision(self) -> Optional[Decision]:
        """The decision, if any."""
        return self._decision

    @property
    def note(self) -> Optional[str]:
        """The note, if any."""
        return self._note

    def check_login(self, login_format: str = "email") -> Optional[str]:
        """Whether the host would pass the Okta user ``login`` this outcome sets, under the
        org's ``login_format`` (``"email"``, Okta's default, or ``"any"``): None when it would
        (or no login is set), else why not. The host refuses such an outcome as
        ``invalid_output`` (the plugin's ``on_error`` applies) because Okta would refuse the
        user: call it in unit tests so they fail first."""
        value = self.user_update("login")
        if value is None:
            return None
        if not isinstance(value, str):
            return "the user profile login must be text"
        problem = _login.check(value, login_format)
        return None if problem is None else _login.LOGIN_PROBLEMS[problem]

    def is_empty(self) -> bool:
        """True when the outcome asks for nothing (a note alone changes nothing)."""
        return not self._app_user and not self._user and self._decision is None
