"""Helpers every login strategy needs, the same as the Rust SDK's ``importhook_sdk::login``:
split a login at its domain, fold it (no surrounding space, no diacritics, lowercase), and
turn a name into a login-safe slug."""

from __future__ import annotations

import unicodedata
from typing import Optional, Tuple

# Alphabetic characters that are not letters (General_Category So with Other_Alphabetic):
# Rust's char::is_alphanumeric keeps them, Python's str.isalnum does not.
_OTHER_ALPHABETIC = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))


def is_mark(ch: str) -> bool:
    """True for a combining mark (General_Category M)."""
    return unicodedata.category(ch).startswith("M")


def is_alphanumeric(ch: str) -> bool:
    """True for a letter or digit as Rust's ``char::is_alphanumeric`` (Alphabetic or Numeric)."""
    if ch.isalnum():
        return True
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _OTHER_ALPHABETIC)


def fold(text: str) -> str:
    """Trimmed, without diacritics, lowercase: ``"  José.Núñez@Example.COM "`` →
    ``"jose.nunez@example.com"``. Diacritics go by canonical decomposition (NFD) minus
    combining marks; letters that do not decompose (``ß``, ``ø``, ``ł``) stay as they are."""
    decomposed = unicodedata.normalize("NFD", text.strip())
    stripped = "".join(c for c in decomposed if not is_mark(c))
    return unicodedata.normalize("NFC", stripped).lower()


def slug(name: str) -> str:
    """A name as it goes into a login: folded, words joined by dots, keeping only letters,
    digits and hyphens: ``" Mary  Ann "`` → ``"mary.ann"``. Empty when nothing usable is left."""
    words = ("".join(c for c in word if c == "-" or is_alphanumeric(c)) for word in fold(name).split())
    return ".".join(w for w in words if w)


def split(login: str) -> Tuple[str, Optional[str]]:
    """``(local, domain)`` of ``login``, split at the last ``@`` (``domain`` None without one)."""
    local, at, domain = login.rpartition("@")
    return (local, domain) if at else (login, None)


def join(local: str, domain: Optional[str]) -> str:
    """``local@domain``, or ``local`` alone without a domain."""
    return local if domain is None else f"{local}@{domain}"


def is_blank(login: str) -> bool:
    """True when ``login`` is empty or only whitespace: never a login to send to Okta."""
    return not login.strip()


# Okta's own rules, the ones the host applies (the Rust crate importhook-login; pinned for
# every SDK by conformance/login-equivalence.json and conformance/login-acceptance.json).

MAX_LOGIN_CHARS = 100
"""Most characters (code points) in a login (Okta's schema: ``maxLength`` 100)."""
MIN_EMAIL_LOGIN_CHARS = 5
"""Fewest characters in a login where logins are email addresses (``minLength`` 5)."""

LOGIN_PROBLEMS = {
    "empty": "login is empty or whitespace only",
    "control_character": "login contains a control character",
    "bidi_control": "login contains a bidirectional control character",
    "too_long": "login is longer than Okta's 100 characters",
    "too_short": "login is shorter than Okta's 5 characters for email logins",
    "not_email": "login is not an email address (local@domain), as Okta requires unless the org's login pattern says otherwise",
}
"""Why Okta would refuse a login: the problem's code and its words (never the value)."""

# Rust's char::is_whitespace (White_Space): str.isspace differs on a few control characters.
_WHITE_SPACE = set("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | {
    chr(c) for c in range(0x2000, 0x200B)
}
_BIDI_CONTROLS = {"\u061c", "\u200e", "\u200f"} | {chr(c) for c in range(0x202A, 0x202F)} | {
    chr(c) for c in range(0x2066, 0x206A)
}
_ATEXT_ASCII = set("!#$%&'*+-/=?^_`{|}~")


def equivalent(login: str) -> str:
    """The key two logins share exactly when Okta holds them to be one login ("Logins are not
    considered unique if they differ only in case and/or diacritical marks", Okta's user
    profile docs): canonical decomposition, combining marks removed, each character
    lowercased, recomposed. ``equivalent("isáàc.bröck@example.com") ==
    equivalent("Isaac.Brock@example.com")``."""
    decomposed = unicodedata.normalize("NFD", login)
    # Per character, so a capital sigma always lowercases the same way whatever follows.
    lowered = "".join(c.lower() for c in decomposed if not is_mark(c))
    return unicodedata.normalize("NFC", lowered)


def is_bidi_control(ch: str) -> bool:
    """True for a bidirectional control (Unicode Bidi_Control)."""
    return ch in _BIDI_CONTROLS


def _is_control(ch: str) -> bool:
    cp = ord(ch)
    return cp <= 0x1F or 0x7F <= cp <= 0x9F


def _is_atext(ch: str) -> bool:
    return ord(ch) > 0x7F or (ch.isascii() and ch.isalnum()) or ch in _ATEXT_ASCII


def _is_quoted_content(inner: str) -> bool:
    chars = iter(inner)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, None)
            if nxt is None or not 0x20 <= ord(nxt) <= 0x7E:
                return False
        elif ch == '"' or ord(ch) < 0x20 or ord(ch) == 0x7F:
            return False
    return True


def _is_local_part(local: str) -> bool:
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        return _is_quoted_content(local[1:-1])
    return bool(local) and all(atom and all(_is_atext(c) for c in atom) for atom in local.split("."))


def _is_domain(domain: str) -> bool:
    return bool(domain) and all(
        label
        and not label.startswith("-")
        and not label.endswith("-")
        and all(c == "-" or is_alphanumeric(c) for c in label)
        for label in domain.split(".")
    )


def _is_address_literal(domain: str) -> bool:
    if not (len(domain) > 2 and domain.startswith("[") and domain.endswith("]")):
        return False
    return all(0x21 <= ord(c) <= 0x7E and c not in "[]\\" for c in domain[1:-1])


def check(login: str, login_format: str = "email") -> Optional[str]:
    """Whether Okta accepts ``login`` in a user profile: None when it does, else the problem's
    code (a key of ``LOGIN_PROBLEMS``). ``login_format`` is the host's ``login_format``:
    ``"email"`` (Okta's default: an email address of 5 to 100 characters) or ``"any"`` (the
    org's login pattern allows any non-empty value up to 100 characters). Control and
    bidirectional-control characters are refused in either."""
    if login_format not in ("email", "any"):
        raise ValueError(f"login format {login_format!r} is not one of email, any")
    if all(c in _WHITE_SPACE for c in login):
        return "empty"
    if any(_is_control(c) for c in login):
        return "control_character"
    if any(is_bidi_control(c) for c in login):
        return "bidi_control"
    if len(login) > MAX_LOGIN_CHARS:
        return "too_long"
    if login_format == "email":
        if len(login) < MIN_EMAIL_LOGIN_CHARS:
            return "too_short"
        local, at, domain = login.rpartition("@")
        if not at or not _is_local_part(local) or not (_is_domain(domain) or _is_address_literal(domain)):
            return "not_email"
    return None
