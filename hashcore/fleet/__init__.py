"""Live ASIC miners: read them with pyasic, and simulate them for tests and demos.

``hashcore.fleet.read`` needs the optional extra ``hashcore[fleet]`` (pyasic);
``hashcore.fleet.simulator`` needs nothing beyond the standard library. Nothing here is
imported by the rest of hashcore, so a missing pyasic only matters to ``hashcore fleet``.
"""

from __future__ import annotations

from hashcore.errors import BackendUnavailable

INSTALL_HINT = "pip install 'hashcore[fleet]'  (or: pip install pyasic)"


def require_pyasic():
    """Import pyasic or say, in one line, how to install it."""
    try:
        import pyasic  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailable(
            f"reading live miners needs pyasic, which is not installed ({exc}): "
            f"{INSTALL_HINT}") from None
    return pyasic
