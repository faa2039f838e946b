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
