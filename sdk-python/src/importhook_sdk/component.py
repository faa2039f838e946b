"""The plugin side (inside the component only: it imports the bindings componentize-py
generates from the WIT, which exist only there). ``python -m importhook_sdk.build``
generates the component's entry module::

    from importhook_sdk.component import make_strategy
    from your_module import strategy
    Strategy = make_strategy(strategy)

Each host capability is a WIT interface of its own, imported here only and wrapped in the
SDK's own types, so a strategy that does not use one does not see it.
"""

from __future__ import annotations

import traceback
from typing import Any, List, Optional

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import config as host_config
from wit_world.imports import log as host_log
from wit_world.imports import types

from . import log
from .config import read_config
from .errors import StrategyError
from .outcome import Outcome
from .request import Request
from .source import MISSING, Action, Application, Job, ProfileKind
from .values import Json, Number, Value

_LEVELS = {
    "trace": host_log.Level.TRACE,
    "debug": host_log.Level.DEBUG,
    "info": host_log.Level.INFO,
    "warn": host_log.Level.WARN,
    "error": host_log.Level.ERROR,
}
log.set_sink(lambda level, message: host_log.log(_LEVELS[level], message))

_PROFILES = {ProfileKind.APP_USER: types.Profile.APP_USER, ProfileKind.USER: types.Profile.USER}


def _scalar_from_wit(s: Any) -> Value:
    return None if isinstance(s, (types.Scalar_Null, types.Value_Null)) else s.value


def from_wit(v: Any) -> Value:
    """A contract value as Python (see values.py)."""
    if isinstance(v, types.Value_List):
        return [_scalar_from_wit(s) for s in v.value]
    if isinstance(v, types.Value_Json):
        return Json(v.value)
    return _scalar_from_wit(v)


def _scalar_to_wit(x: Any) -> Any:
    if x is None:
        return types.Scalar_Null()
    if isinstance(x, bool):
        return types.Scalar_Boolean(x)
    if isinstance(x, int):
        return types.Scalar_Integer(x)
    if isinstance(x, float):
        return types.Scalar_Number(x)
    return types.Scalar_Text(x)


def to_wit(x: Value) -> Any:
    """A checked value (values.check) as the contract's ``value``."""
    if x is None:
        return types.Value_Null()
    if isinstance(x, bool):
        return types.Value_Boolean(x)
    if isinstance(x, int):
        return types.Value_Integer(x)
    if isinstance(x, float):
        return types.Value_Number(x)
    if isinstance(x, Number):
        return types.Value_Number(float(x.value))
    if isinstance(x, str):
        return types.Value_Text(x)
    if isinstance(x, Json):
        return types.Value_Json(x.text)
    return types.Value_List([_scalar_to_wit(s) for s in x])


class HostSource:
    """The host's request resource as a :class:`importhook_sdk.Source`."""

    def __init__(self, resource: types.Request):
        self._r = resource

    def event_id(self) -> str:
        return self._r.event_id()

    def get(self, profile: ProfileKind, name: str) -> Any:
        value = self._r.get(_PROFILES[profile], name)
        return MISSING if value is None else from_wit(value)

    def names(self, profile: ProfileKind) -> List[str]:
        return self._r.names(_PROFILES[profile])

    def changed(self, profile: ProfileKind) -> List[str]:
        return self._r.changed(_PROFILES[profile])

    def matched_user_id(self) -> Optional[str]:
        return self._r.matched_user_id()

    def action(self) -> Action:
        return Action.LINK_USER if self._r.action() == types.Action.LINK_USER else Action.CREATE_USER

    def link_target(self) -> Optional[str]:
        return self._r.link_target()

    def conflicts(self) -> List[str]:
        return self._r.conflicts()

    def matches(self) -> List[Value]:
        return [from_wit(m) for m in self._r.matches()]

    def policy(self) -> List[str]:
        return self._r.policy()

    def application(self) -> Optional[Application]:
        app = self._r.application()
        return None if app is None else Application(app.id, app.name, app.label, app.status)

    def job(self) -> Optional[Job]:
        job = self._r.job()
        return None if job is None else Job(job.id, job.kind)


# The `[config]` table does not change for the life of an instance: read it into the
# strategy's `Config` once, lazily (never at build time, when the host is not there).
_settings: Any = None


def _host_settings(strategy: Any) -> Any:
    global _settings
    if _settings is None:
        entries = [(a.name, from_wit(a.value)) for a in host_config.entries()]
        _settings = read_config(getattr(strategy, "Config", None), entries)
    return _settings


def _to_wit_outcome(outcome: Outcome) -> types.Outcome:
    decision = outcome.decision
    if decision is None:
        wit_decision = None
    elif decision.kind == "link-user":
        wit_decision = types.Decision_LinkUser(decision.user_id)
    else:
        wit_decision = types.Decision_CreateUser()
    return types.Outcome(
        app_user_updates=[types.Attribute(n, to_wit(v)) for n, v in outcome.app_user_updates()],
        user_updates=[types.Attribute(n, to_wit(v)) for n, v in outcome.user_updates()],
        decision=wit_decision,
        note=outcome.note,
    )


def _guard(run):
    # A StrategyError is the call's `err`; any other exception is a panic: the host is told
    # why, then the exception propagates and the call traps.
    try:
        return run()
    except StrategyError as error:
        raise Err(str(error))
    except Exception:
        host_log.panicked(traceback.format_exc())
        raise


def make_strategy(strategy: Any) -> type:
    """The contract's ``strategy`` export (the class componentize-py instantiates)."""

    class Strategy(exports.Strategy):
        def transform(self, request: types.Request) -> types.Outcome:
            def run() -> types.Outcome:
                outcome = strategy.transform(Request(HostSource(request)), _host_settings(strategy))
                if not isinstance(outcome, Outcome):
                    raise TypeError("transform must return an Outcome")
                return _to_wit_outcome(outcome)

            return _guard(run)

        def validate_config(self) -> None:
            def run() -> None:
                settings = _host_settings(strategy)
                validate = getattr(strategy, "validate_config", None)
                if validate is not None:
                    validate(settings)

            _guard(run)

    return Strategy
