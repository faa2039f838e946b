"""The plugin's ``[config]`` table, read into the strategy's own dataclass (its ``Config``
attribute) by the field types, the way the Rust SDK reads it into the strategy's serde type:
the same reading when the host loads the plugin (validate-config) and for every call, so a
key or a type the strategy does not expect refuses the plugin at load, never quietly defaults.

    @dataclass(frozen=True)
    class Settings:
        attribute: str = "employeeNumber"
        when_missing: Literal["leave", "error"] = "leave"

    class MyStrategy:
        Config = Settings
        def transform(self, request, settings: Settings) -> Outcome: ...

Field types: ``str``, ``bool``, ``int``, ``float`` (an int is taken too), ``Literal[...]`` of
strings, ``Optional[...]`` of those, and ``list[str]``. A strategy without ``Config`` takes no
keys.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, Dict, Iterable, Literal, Mapping, Optional, Tuple

from .errors import StrategyError


@dataclasses.dataclass(frozen=True)
class NoConfig:
    """The configuration of a strategy that takes no ``[config]`` keys."""


def _describe(kind: Any) -> str:
    origin = typing.get_origin(kind)
    if origin is Literal:
        return " or ".join(json.dumps(c) for c in typing.get_args(kind))
    if origin is typing.Union:
        inner = [a for a in typing.get_args(kind) if a is not type(None)]
        return " or ".join(_describe(a) for a in inner)
    if origin is list:
        return f"a list of {_describe(typing.get_args(kind)[0])}s".replace("a list of a ", "a list of ")
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a number"}.get(kind, getattr(kind, "__name__", str(kind)))


def _fits(kind: Any, value: Any) -> bool:
    origin = typing.get_origin(kind)
    if origin is Literal:
        return any(value == c and type(value) is type(c) for c in typing.get_args(kind))
    if origin is typing.Union:
        return any(value is None if a is type(None) else _fits(a, value) for a in typing.get_args(kind))
    if origin is list:
        (item,) = typing.get_args(kind)
        return isinstance(value, list) and all(_fits(item, v) for v in value)
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is str:
        return isinstance(value, str)
    return isinstance(value, kind)


def read_config(config_type: Optional[type], entries: Iterable[Tuple[str, Any]]) -> Any:
    """Reads ``entries`` (``(key, value)`` in the manifest's order) into ``config_type`` (a
    dataclass; ``None`` takes no keys). An unknown key, or a value of another type, raises
    :class:`StrategyError` naming the key."""
    config_type = config_type or NoConfig
    hints = typing.get_type_hints(config_type)
    known = [f.name for f in dataclasses.fields(config_type)]
    values: Dict[str, Any] = {}
    for key, value in entries:
        if key not in known:
            raise StrategyError(f"unknown key {json.dumps(key)} (known: {', '.join(known) or 'none'})")
        if not _fits(hints[key], value):
            raise StrategyError(f"{key} must be {_describe(hints[key])}, not {json.dumps(value, default=str)}")
        values[key] = value
    return config_type(**values)


def load_config(strategy: Any, table: Optional[Mapping[str, Any]] = None) -> Any:
    """The settings ``strategy`` gets from a ``[config]`` table (a dict, for tests), read into its
    ``Config`` and checked by its ``validate_config``: exactly what the host does when it loads
    the plugin."""
    settings = read_config(getattr(strategy, "Config", None), (table or {}).items())
    check = getattr(strategy, "validate_config", None)
    if check is not None:
        check(settings)
    return settings
