"""The Numba backend: the fallback when the C extension is absent (or ``HASHCORE_BACKEND=numba``).

The kernels live in ``_numba_kernels`` and are compiled on first use with ``cache=True`` (so
later processes load machine code from ``__pycache__``). Importing this module imports numba;
the core imports it only when this backend is chosen or listed.

Before its first hash the backend checks itself against known vectors (sha256d of short
messages, the genesis header through ``hash_headers`` and ``scan``); if that fails the path
is reported as failed and every operation raises ``BackendUnavailable`` instead of returning
a wrong hash.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba  # noqa: F401  (an ImportError here tells the core this backend is absent)
import numpy as np

from hashcore.backends import Implementation
from hashcore.errors import BackendUnavailable

NAME = "numba"
IMPL = "numba"

# Nonces per scan_range call from the core: about 0.13 s per chunk on the development CPU
# (15.7 M nonces/s per thread), so Ctrl-C and progress stay responsive.
SCAN_CHUNK = 1 << 21

# Hits returned per kernel call; a target that lets more through is resumed in a loop.
_HIT_CAPACITY = 1024

# Known vectors (hashlib-independent): sha256d of b"" and b"abc", raw digest order, and
# the mainnet genesis header with its block hash in display order.
_VECTORS = (
    (b"", "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"),
    (b"abc", "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358"),
)
_GENESIS_HEX = (
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd"
    "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c"
)
_GENESIS_HASH = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
_GENESIS_TARGET = 0xFFFF << 208  # bits 0x1d00ffff

# hash_headers gives each thread at least this many headers (~0.5 ms of work), so the hand-off
# to the pool stays small beside the hashing.
_HEADERS_PER_THREAD_MIN = 4096

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None  # created on the first large batch, then reused
_kernels = None
_selftest: str | None = None  # None: not run yet; "ok" or "failed: <why>"
_force_selftest_failure = False  # test hook: make the next self-test fail


def _readonly(arr: np.ndarray) -> np.ndarray:
    """A read-only view, so every kernel is compiled (and cached) for one array type only."""
    if arr.flags.writeable:
        arr = arr.view()
        arr.flags.writeable = False
    return arr


def _u8(data) -> np.ndarray:
    return _readonly(np.frombuffer(data, dtype=np.uint8))


def _run_selftest(k) -> str:
    """Compare the kernels with fixed vectors; returns "ok" or "failed: <why>"."""
    if _force_selftest_failure:
        return "failed: forced by test hook"
    out = np.empty(32, dtype=np.uint8)
    for msg, want in _VECTORS:
        k.sha256d_kernel(_u8(msg), out)
        if out.tobytes().hex() != want:
            return f"failed: sha256d({msg!r}) gave {out.tobytes().hex()}"
    genesis = bytes.fromhex(_GENESIS_HEX)
    heads = np.empty((1, 32), dtype=np.uint8)
    k.hash_headers_kernel(_u8(genesis), heads, 0, 1)
    if heads[0].tobytes()[::-1].hex() != _GENESIS_HASH:
        return "failed: hash_headers(genesis) gave the wrong hash"
    nonce = int.from_bytes(genesis[76:], "little")
    hits = _scan(k, genesis[:76], _GENESIS_TARGET.to_bytes(32, "little"), nonce - 20, 40)
    if [n for n, _ in hits] != [nonce] or hits[0][1][::-1].hex() != _GENESIS_HASH:
        return f"failed: scan around the genesis nonce found {[n for n, _ in hits]}"
    return "ok"


def _ready():
    """The kernel module, self-tested on first use; raises BackendUnavailable if it failed."""
    global _kernels, _selftest
    if _selftest is None:
        with _lock:
            if _selftest is None:
                from hashcore.backends import _numba_kernels as k

                try:
                    result = _run_selftest(k)
                except Exception as exc:  # a numba compile error is a failed path, not a crash
                    result = f"failed: {type(exc).__name__}: {exc}".splitlines()[0]
                _kernels = k
                _selftest = result
    if _selftest != "ok":
        raise BackendUnavailable(f"the numba path failed its self-test ({_selftest})")
    return _kernels


def _reset_for_tests() -> None:
    """Forget the self-test result so that the next use runs it again."""
    global _selftest
    with _lock:
        _selftest = None


def _lanes() -> int:
    from hashcore.backends._numba_kernels import LANES

    return LANES


def implementations() -> list[Implementation]:
    """The one numba path, self-tested (compiling or loading the kernels) on first call."""
    try:
        _ready()
    except BackendUnavailable:
        pass
    return [Implementation(IMPL, NAME, _selftest == "ok", _selftest or "not run", _lanes())]


def set_impl(name: str | None) -> None:
    """Only ``"numba"`` (or None) exists; the path must have passed its self-test."""
    if name not in (None, IMPL):
        raise BackendUnavailable(f"the numba backend has no implementation '{name}' "
                                 f"(it has only '{IMPL}')")
    _ready()


def current_impl() -> str:
    """For example ``"numba(16 lanes)"``."""
    return f"numba({_lanes()} lanes)"


def sha256d(data) -> bytes:
    """Double SHA-256 of any bytes-like input, raw digest."""
    k = _ready()
    out = np.empty(32, dtype=np.uint8)
    k.sha256d_kernel(_u8(data), out)
    return out.tobytes()


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=_cpus(), thread_name_prefix="hashcore-numba")
        return _pool


def _forget_pool_after_fork() -> None:
    """A forked child has none of the parent's pool threads: start a new pool there."""
    global _pool, _lock
    _pool = None
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def hash_headers(buf: np.ndarray) -> np.ndarray:
    """All headers of the batch; large batches are split over one thread per CPU.

    The kernel releases the GIL, so plain threads scale; numba's ``parallel=True`` (OpenMP)
    collapsed when another process used the other core (see docs/numba.md).
    """
    k = _ready()
    n = buf.size // 80
    out = np.empty((n, 32), dtype=np.uint8)
    arr = _readonly(buf)
    parts = max(1, min(_cpus(), n // _HEADERS_PER_THREAD_MIN))
    if parts == 1:
        k.hash_headers_kernel(arr, out, 0, n)
        return out
    # Part boundaries on multiples of the lane count keep every part's blocks full.
    lanes = k.LANES
    bounds = [min(n, (n * p // parts) // lanes * lanes) for p in range(parts)] + [n]
    futures = [_executor().submit(k.hash_headers_kernel, arr, out, bounds[p], bounds[p + 1])
               for p in range(parts)]
    for f in futures:
        f.result()
    return out


def _scan(k, header76: bytes, target_le: bytes, nonce_start: int,
          count: int) -> list[tuple[int, bytes]]:
    head = _u8(header76)
    target = _u8(target_le)
    nonces = np.empty(_HIT_CAPACITY, dtype=np.int64)
    digests = np.empty((_HIT_CAPACITY, 32), dtype=np.uint8)
    found: list[tuple[int, bytes]] = []
    while count > 0:
        hits, done = k.scan_kernel(head, target, nonce_start, count, nonces, digests)
        found.extend((int(nonces[i]), digests[i].tobytes()) for i in range(hits))
        nonce_start += done
        count -= done
    return found


def scan_range(header76: bytes, target_le: bytes, nonce_start: int,
               count: int) -> list[tuple[int, bytes]]:
    """Every nonce in the range whose hash is <= target; the kernel runs without the GIL."""
    return _scan(_ready(), header76, target_le, nonce_start, count)
