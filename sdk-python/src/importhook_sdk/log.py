"""Logging through the host: lines are tagged with the plugin's name, truncated to 1 KiB and
capped at 32 per call. Never log personal data. Natively (tests) lines go to stderr."""

from __future__ import annotations

import sys
from typing import Callable


def _stderr(level: str, message: str) -> None:
    print(f"[{level}] {message}", file=sys.stderr)


_sink: Callable[[str, str], None] = _stderr


def set_sink(write: Callable[[str, str], None]) -> None:
    """Where lines go (the plugin glue points it at the host; tests may capture lines)."""
    global _sink
    _sink = write


def reset_sink() -> None:
    """Back to stderr."""
    set_sink(_stderr)


def trace(message: str) -> None:
    _sink("trace", str(message))


def debug(message: str) -> None:
    _sink("debug", str(message))


def info(message: str) -> None:
    _sink("info", str(message))


def warn(message: str) -> None:
    _sink("warn", str(message))


def error(message: str) -> None:
    _sink("error", str(message))
