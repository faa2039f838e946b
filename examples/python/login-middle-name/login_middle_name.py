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

import json
from typing import Optional

from importhook_sdk import Action, Config, Outcome, Request, StrategyError, login

KEYS = ("middle_name_attribute", "login_attribute", "when_missing")


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
    def transform(self, request: Request, config: Config) -> Outcome:
        login_attribute = config.text("login_attribute") or "login"
        # Login rewrites are for users Okta will create (a strategy before this one may have
        # decided to link instead).
        if request.action() is not Action.CREATE_USER or not request.has_conflict(login_attribute):
            return Outcome()
        current = request.user().text(login_attribute)
        if current is None or login.is_blank(current):
            return Outcome().note("no login to rewrite")
        middle_attribute = config.text("middle_name_attribute") or "middleName"
        name = request.app_user().text(middle_attribute)
        middle = login.slug(name) if name is not None else ""
        if not middle:
            if config.text("when_missing") == "error":
                raise StrategyError("no middle name to resolve the login conflict")
            return Outcome().note("no middle name; login left unchanged")
        # Surrounding whitespace is not part of a login (Okta and the host refuse one with it).
        rewritten = infix(current.strip(), middle)
        if rewritten is None:
            return Outcome().note("login already holds the middle name")
        return Outcome().set_user(login_attribute, rewritten).note("middle name infixed")

    def validate_config(self, config: Config) -> None:
        for key in config.keys():
            if key not in KEYS:
                raise StrategyError(f"unknown key {json.dumps(key)} (known: {', '.join(KEYS)})")
            if not isinstance(config.get(key), str):
                raise StrategyError(f"{key} must be a string")
        when_missing = config.text("when_missing")
        if when_missing not in (None, "leave", "error"):
            raise StrategyError(f'when_missing must be "leave" or "error", not {json.dumps(when_missing)}')


strategy = LoginMiddleName()
