"""The one error a strategy raises on purpose."""


class StrategyError(Exception):
    """A failure of this call (transform) or a refused ``[config]`` (validate_config)."""
