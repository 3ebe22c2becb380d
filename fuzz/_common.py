"""Shared plumbing for the atheris harnesses in this folder.

A harness module defines ``NAME``, ``seeds() -> list[bytes]`` (built at run time from the real
headers in shared/data, never stored in the repository) and ``one_input(data: bytes)``, which
feeds the bytes to one reader and lets only real failures escape: the project's documented
errors (``HashcoreError`` subclasses) are the expected answer to bad input and are swallowed
by ``expected_errors``; anything else, an assertion on an invariant, a hang (libFuzzer
``-timeout``) or memory growth (``-rss_limit_mb``) is a finding.
"""

from __future__ import annotations

import contextlib
import struct
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hashcore.errors import HashcoreError  # noqa: E402
from hashcore.paths import find_shared_data  # noqa: E402

# Small enough to keep CI seeds quick, large enough to carry links, retargets and forks.
SEED_HEADERS_PER_FILE = 24


@contextlib.contextmanager
def expected_errors() -> Iterator[None]:
    """Swallow the project's documented errors; let everything else through."""
    try:
        yield
    except HashcoreError as exc:
        msg = str(exc)
        # A documented error is one line that says something.
        assert msg and "\n" not in msg, f"{type(exc).__name__} message not one line: {msg!r}"


def real_header_runs() -> list[bytes]:
    """A few runs of real consecutive headers (and singletons) from shared/data, or []."""
    shared = find_shared_data(ROOT)
    if shared is None:
        return []
    runs = []
    for path in sorted((shared / "headers").glob("*/*.bin")):
        raw = path.read_bytes()
        runs.append(raw[: 80 * SEED_HEADERS_PER_FILE])
        if len(raw) > 80 * 2 * SEED_HEADERS_PER_FILE:
            mid = (len(raw) // 160) * 80
            runs.append(raw[mid: mid + 80 * 3])
    return runs


def real_headers() -> list[bytes]:
    """Single real headers (one per 80 bytes of every run)."""
    out = []
    for run in real_header_runs():
        out.extend(run[i: i + 80] for i in range(0, len(run), 80))
    return out


def u32(data: bytes, at: int) -> int:
    return struct.unpack_from("<I", data, at)[0]


def instrument_hashcore() -> int:
    """Add coverage feedback to every loaded hashcore function (not numpy, not the stdlib)."""
    import gc
    import types

    import atheris

    funcs = [obj for obj in gc.get_objects()
             if isinstance(obj, types.FunctionType)
             and (getattr(obj, "__module__", None) or "").startswith("hashcore")]
    for func in funcs:
        atheris.instrument_func(func)
    return len(funcs)


def main(one_input: Callable[[bytes], None]) -> None:
    """Run the harness under atheris with the command line libFuzzer expects."""
    import atheris

    instrument_hashcore()
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
