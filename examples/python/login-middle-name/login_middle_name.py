"""login-middle-name in Python: the port of plugins/login-middle-name (Rust), with the same
answers. When Okta will create a user whose login is in conflict, infix the middle name from
the app user profile into the login's local part:
``george.smith@example.com`` → ``george.alexander.smith@example.com``.

The middle name goes in as the login is normalised: lowercase, without diacritics, words
joined by dots (``login.slug``). A user Okta will link keeps its login, and no empty login is
ever proposed.

Configuration (``[config]`` of the manifest):
- ``middle_name_attribute`` (default ``"middleName"``): app user attribute holding the middle name;
- ``login_attribute`` (default ``"login"``): the conflicting Okta user attribute to rewrite;
- ``when_missing`` (default ``"leave"``): without a middle name, ``"leave"`` the login as it is
  (Okta then reports the conflict) or ``"error"`` (the host applies the plugin's ``on_error``).
"""

from dataclasses import dataclass
from typing import Literal, Optional

from importhook_sdk import Action, Outcome, Request, StrategyError, login


@dataclass(frozen=True)
class Settings:
    """The ``[config]`` table: a key not listed, or a value of another type, refuses the plugin."""

    middle_name_attribute: str = "middleName"
    login_attribute: str = "login"
    when_missing: Literal["leave", "error"] = "leave"


def infix(user_login: str, middle: str) -> Optional[str]:
    """Puts ``middle`` after the first dot-separated part of the local part; None when it is
    already there (a retried request must not infix twice)."""
    local, domain = login.split(user_login)
    if any(part.lower() == middle.lower() for part in local.split(".")):
        return None
    first, dot, rest = local.partition(".")
    new_local = f"{first}.{middle}.{rest}" if dot else f"{local}.{middle}"
    return login.join(new_local, domain)


class LoginMiddleName:
    Config = Settings

    def transform(self, request: Request, settings: Settings) -> Outcome:
        login_attribute = settings.login_attribute
        # Login rewrites are for users Okta will create (a strategy before this one may have
        # decided to link instead).
        if request.action() is not Action.CREATE_USER or not request.has_conflict(login_attribute):
            return Outcome()
        current = request.user().text(login_attribute)
        if current is None or login.is_blank(current):
            return Outcome().set_note("no login to rewrite")
        name = request.app_user().text(settings.middle_name_attribute)
        middle = login.slug(name) if name is not None else ""
        if not middle:
            if settings.when_missing == "error":
                raise StrategyError("no middle name to resolve the login conflict")
            return Outcome().set_note("no middle name; login left unchanged")
        # Surrounding whitespace is not part of a login (Okta and the host refuse one with it).
        rewritten = infix(current.strip(), middle)
        if rewritten is None:
            return Outcome().set_note("login already holds the middle name")
        return Outcome().set_user(login_attribute, rewritten).set_note("middle name infixed")


strategy = LoginMiddleName()
