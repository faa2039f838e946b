"""Profile values: the contract's ``value`` variant as Python.

``None`` (JSON null), ``bool``, ``int`` (s64), ``float`` (f64), ``str``, a ``list`` of those
scalars, or :class:`Json` for any other JSON value (an object, a nested list, a huge number),
kept as compact JSON text.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Union

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Json:
    """A JSON value the contract carries as text."""

    text: str

    def parse(self) -> Any:
        """The value, parsed."""
        return json.loads(self.text)


@dataclass(frozen=True)
class Number:
    """An f64 that must stay a number even when it is whole (``Number(2.0)``)."""

    value: float


Scalar = Union[None, bool, int, float, str]
Value = Union[Scalar, list, Json]


def _compact(x: Any) -> str:
    return json.dumps(x, separators=(",", ":"), ensure_ascii=False)


def _is_scalar(x: Any) -> bool:
    return x is None or isinstance(x, (bool, str)) or (isinstance(x, int) and I64_MIN <= x <= I64_MAX) or isinstance(x, float)


def check(x: Any, what: str = "value") -> Value:
    """``x`` as a value the contract carries (plain objects and nested lists become :class:`Json`)."""
    if isinstance(x, float) and not math.isfinite(x):
        raise TypeError(f"{what}: {x} is not a JSON number")
    if isinstance(x, (Json, Number)) or _is_scalar(x):
        return x
    if isinstance(x, int):
        raise TypeError(f"{what}: {x} does not fit in 64 bits")
    if isinstance(x, (list, tuple)):
        if all(_is_scalar(i) for i in x):
            return list(x)
        return Json(_compact(list(x)))
    if isinstance(x, dict):
        return Json(_compact(x))
    raise TypeError(f"{what}: a {type(x).__name__} is not a value")


def from_okta_json(x: Any) -> Value:
    """Okta's parsed JSON as the host maps it: scalars and lists of scalars typed, else text."""
    if isinstance(x, int) and not isinstance(x, bool) and not I64_MIN <= x <= I64_MAX:
        return Json(str(x))
    if isinstance(x, list) and not all(_is_scalar(i) for i in x):
        return Json(_compact(x))
    if isinstance(x, dict):
        return Json(_compact(x))
    return x
