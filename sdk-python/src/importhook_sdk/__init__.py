"""Write importhook conflict strategies in Python: typed access to the imported user
(:class:`Request`), a builder for what to change (:class:`Outcome`), the plugin's ``[config]``
read into the strategy's own dataclass (:func:`load_config`), logging through the host
(:mod:`importhook_sdk.log`), and :meth:`Request.from_okta_json` so a strategy is unit-tested
with ``pytest``, without building wasm. The same shape as the Rust SDK (importhook-sdk).

A strategy is an object with a ``Config`` dataclass (none: no keys), ``transform(request,
settings) -> Outcome`` and optionally ``validate_config(settings)``; raise
:class:`StrategyError` to fail a call (or refuse a config) with a message; any other exception
is a panic. ``python -m importhook_sdk.build`` builds it into a plugin component with
componentize-py.
"""

from . import log, login
from .config import NoConfig, load_config, read_config
from .errors import StrategyError
from .outcome import Decision, Outcome
from .request import Profile, Request
from .source import MISSING, Action, Application, Job, ProfileKind, Source
from .values import Json, Number, Value
from .wit import interface_version

#: The WIT package version this SDK speaks (``importhook:plugin@…``, read from plugin-sdk/wit).
INTERFACE_VERSION = interface_version()


__all__ = [
    "Action", "Application", "Decision", "INTERFACE_VERSION", "Job", "Json", "MISSING",
    "NoConfig", "Number", "Outcome", "Profile", "ProfileKind", "Request", "Source", "StrategyError",
    "Value", "load_config", "log", "login", "read_config",
]
