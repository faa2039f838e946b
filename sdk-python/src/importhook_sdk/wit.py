"""Where the WIT contract is and which version it is: the WIT file is the one place the version
is written. The checkout's plugin-sdk/wit when the SDK is used from a checkout (or installed
editable); a packed SDK (scripts/pack-sdks.sh) carries a copy inside the package. Inside a
component, which has no such file, the build writes the version it built against into the
module ``importhook_wit_version``."""

import re
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT_WIT = _PACKAGE.parent.parent.parent / "plugin-sdk" / "wit"
DEFAULT_WIT = _CHECKOUT_WIT if (_CHECKOUT_WIT / "importhook.wit").is_file() else _PACKAGE / "wit"


def wit_version(directory: Path = DEFAULT_WIT) -> str:
    """The ``X.Y.Z`` of ``package importhook:plugin@X.Y.Z;`` in ``directory``/importhook.wit."""
    path = Path(directory) / "importhook.wit"
    found = re.search(r"^\s*package importhook:plugin@([^;\s]+);", path.read_text(encoding="utf-8"), re.M)
    if not found:
        raise ValueError(f"{path} has no `package importhook:plugin@X.Y.Z;` line")
    return found.group(1)


def interface_version() -> str:
    """The version this SDK speaks: the built component's, else the WIT file's."""
    try:
        from importhook_wit_version import VERSION  # type: ignore[import-not-found]

        return VERSION
    except ImportError:
        return wit_version()
