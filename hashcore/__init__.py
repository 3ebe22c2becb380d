"""hashcore: verify Bitcoin block headers, benchmark SHA-256d, model mining economics.

``hashcore.implementation`` names the hashing path in use (``"c:avx512(16)"``); it is
computed on access because the path can be switched at run time.
"""

from __future__ import annotations

from hashcore._version import __version__
from hashcore.core import (
    Found,
    ScanInterrupted,
    ScanResult,
    available_implementations,
    hash_headers,
    scan,
    set_implementation,
    sha256d,
    use,
)
from hashcore.errors import HashcoreError, InputError, ReadError, ScenarioError

__all__ = [
    "__version__", "Found", "ScanInterrupted", "ScanResult", "available_implementations",
    "hash_headers", "scan", "set_implementation", "sha256d", "use", "HashcoreError",
    "InputError", "ReadError", "ScenarioError", "implementation",
]


def __getattr__(name: str):
    if name == "implementation":
        from hashcore.core import implementation

        return implementation()
    raise AttributeError(f"module 'hashcore' has no attribute {name!r}")
