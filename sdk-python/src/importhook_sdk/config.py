"""The plugin's ``[config]`` table from its manifest, read from the host on first use and
kept for the instance's life (the host never changes it under a running instance)."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from .values import Value, check


class Config:
    """The plugin's configuration. ``Config({"when_missing": "error"})`` in tests."""

    def __init__(self, entries: Optional[Dict[str, Any]] = None, *, load: Optional[Callable[[], List[Tuple[str, Value]]]] = None):
        self._entries = None if load else [(k, check(v, k)) for k, v in (entries or {}).items()]
        self._load = load

    def _all(self) -> List[Tuple[str, Value]]:
        if self._entries is None:
            self._entries = list(self._load())
        return self._entries

    def get(self, key: str, default: Any = None) -> Value:
        """The value of ``key``, ``default`` when the table does not have it."""
        return next((v for k, v in self._all() if k == key), default)

    def has(self, key: str) -> bool:
        """True when the table has ``key``."""
        return any(k == key for k, _ in self._all())

    __contains__ = has

    def text(self, key: str) -> Optional[str]:
        """The text value of ``key``."""
        value = self.get(key)
        return value if isinstance(value, str) else None

    def boolean(self, key: str) -> Optional[bool]:
        """The boolean value of ``key``."""
        value = self.get(key)
        return value if isinstance(value, bool) else None

    def integer(self, key: str) -> Optional[int]:
        """The integer value of ``key``."""
        value = self.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def keys(self) -> List[str]:
        """The keys, in the manifest's order."""
        return [k for k, _ in self._all()]

    def items(self) -> List[Tuple[str, Value]]:
        """All entries, in the manifest's order."""
        return list(self._all())
