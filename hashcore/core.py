"""The public hashing API: sha256d, hash_headers and scan over one chosen backend.

Every hash in hashcore goes through here. This module checks every argument before a backend
sees it (a C function must never get a length it did not expect), picks the backend
(``HASHCORE_BACKEND``) and path (``HASHCORE_IMPL``), and owns threading and chunking of scans
so that all backends share the same semantics and Ctrl-C stops a scan promptly.
"""

from __future__ import annotations

import importlib
import os
import struct
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from hashcore.backends import BACKEND_NAMES, Implementation
from hashcore.compact import TWO_256, target_from_bits
from hashcore.errors import BackendUnavailable, InputError

HEADER_SIZE = 80
NONCE_SPACE = 1 << 32

_MODULES = {"c": "hashcore.backends.c", "numba": "hashcore.backends.numba",
            "hashlib": "hashcore.backends.reference"}
_FALLBACK_ADVICE = {
    "c": "the C extension is not built: install a C compiler and cffi, then "
         "`pip install --force-reinstall --no-deps .`",
    "numba": "numba is not importable: `pip install numba`",
}

_lock = threading.Lock()
_backend: ModuleType | None = None
_load_errors: dict[str, str] = {}


def _import_backend(name: str) -> ModuleType:
    if name not in _MODULES:
        raise BackendUnavailable(
            f"unknown backend '{name}' (choose from {', '.join(BACKEND_NAMES)})")
    try:
        return importlib.import_module(_MODULES[name])
    except ImportError as exc:
        _load_errors[name] = str(exc)
        raise BackendUnavailable(f"backend '{name}' is unavailable: {exc}") from exc


def backend_error(name: str) -> str | None:
    """Why a backend failed to load, if it was tried and failed."""
    return _load_errors.get(name)


def _select_default() -> ModuleType:
    wanted = os.environ.get("HASHCORE_BACKEND", "").strip().lower() or None
    impl = os.environ.get("HASHCORE_IMPL", "").strip().lower() or None
    if wanted:
        module = _import_backend(wanted)
        if impl:
            module.set_impl(impl)
        return module
    order = ["c", "numba", "hashlib"]
    for i, name in enumerate(order):
        try:
            module = _import_backend(name)
        except BackendUnavailable:
            continue
        if i > 0:
            skipped = order[0]
            why = _load_errors.get(skipped, "")
            warnings.warn(f"hashcore is using the {name} backend because "
                          f"{_FALLBACK_ADVICE[skipped]} ({why})", RuntimeWarning, stacklevel=3)
        if impl:
            module.set_impl(impl)
        return module
    raise BackendUnavailable("no hashing backend could be loaded")  # hashlib always loads


def backend() -> ModuleType:
    """The backend module in use, chosen on first use."""
    global _backend
    if _backend is None:
        with _lock:
            if _backend is None:
                _backend = _select_default()
    return _backend


def use(backend_name: str, impl: str | None = None) -> str:
    """Switch backend (and optionally force a path); returns the new implementation name."""
    global _backend
    module = _import_backend(backend_name)
    module.set_impl(impl)
    with _lock:
        _backend = module
    return implementation()


def set_implementation(impl: str | None) -> str:
    """Force a path of the current backend (None restores the dispatcher's choice)."""
    backend().set_impl(impl)
    return implementation()


def implementation() -> str:
    """What runs now, as ``backend:path``, for example ``c:avx512(16)``."""
    module = backend()
    return f"{module.NAME}:{module.current_impl()}"


def available_implementations(include_numba: bool = True) -> list[Implementation]:
    """Every path of every backend with its self-test result (importing numba if asked)."""
    result: list[Implementation] = []
    for name in BACKEND_NAMES:
        if name == "numba" and not include_numba:
            continue
        try:
            module = _import_backend(name)
        except BackendUnavailable as exc:
            result.append(Implementation(name, name, False, f"not loaded: {exc}"))
            continue
        result.extend(module.implementations())
    return result


# --------------------------------------------------------------------------- argument checks

def _as_bytes(data, what: str) -> bytes | memoryview:
    if type(data) is bytes:  # the common case, checked first: it is on sha256d's hot path
        return data
    if isinstance(data, str):
        raise InputError(f"{what} must be bytes, not str (decode hex first)")
    try:
        view = memoryview(data)
    except TypeError:
        raise InputError(f"{what} must be a bytes-like object, got {type(data).__name__}") from None
    if not view.c_contiguous:
        return bytes(view.tobytes())
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def _header_array(buf) -> np.ndarray:
    if isinstance(buf, np.ndarray):
        # Structured header records or (N, 80) uint8 alike: a contiguous uint8 view, no copy.
        arr = np.ascontiguousarray(buf)
        if arr.dtype != np.uint8:
            arr = arr.view(np.uint8)
        arr = arr.reshape(-1)
    else:
        arr = np.frombuffer(_as_bytes(buf, "header buffer"), dtype=np.uint8)
    if arr.size % HEADER_SIZE:
        raise InputError(f"header buffer is {arr.size} bytes, not a multiple of {HEADER_SIZE}")
    return arr


def target_to_int(target) -> int:
    """A target given as int or 32 big-endian bytes (as printed), checked to be in [1, 2**256)."""
    if isinstance(target, (bytes, bytearray, memoryview)):
        raw = bytes(target)
        if len(raw) != 32:
            raise InputError(f"a target given as bytes must be 32 bytes, got {len(raw)}")
        target = int.from_bytes(raw, "big")
    if not isinstance(target, (int, np.integer)) or isinstance(target, bool):
        raise InputError(f"target must be an int or 32 bytes, got {type(target).__name__}")
    target = int(target)
    if target <= 0:
        raise InputError("target must be at least 1 (a target of 0 can never be met)")
    if target >= TWO_256:
        raise InputError("target must be below 2**256")
    return target


# --------------------------------------------------------------------------- operations

def sha256d(data) -> bytes:
    """SHA-256 applied twice, raw digest (reverse it for Bitcoin's display order)."""
    return backend().sha256d(_as_bytes(data, "data"))


def hash_headers(buf) -> np.ndarray:
    """Double-hash N independent 80-byte headers; returns (N, 32) uint8 raw digests."""
    arr = _header_array(buf)
    if arr.size == 0:
        return np.empty((0, 32), dtype=np.uint8)
    return backend().hash_headers(arr)


@dataclass(frozen=True)
class Found:
    """A nonce whose hash met the target; ``hash`` is the raw digest."""

    nonce: int
    hash: bytes

    @property
    def hash_hex(self) -> str:
        """The block hash in display order (as explorers print it)."""
        return self.hash[::-1].hex()


@dataclass
class ScanResult:
    nonces: list[Found]
    hashes: int
    seconds: float
    implementation: str
    threads: int
    target: int
    nonce_start: int
    count: int
    found_all: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def rate_hs(self) -> float:
        return self.hashes / self.seconds if self.seconds > 0 else 0.0


class ScanInterrupted(KeyboardInterrupt):
    """Ctrl-C during a scan: carries what was scanned before it stopped."""

    def __init__(self, partial: ScanResult):
        super().__init__("scan interrupted")
        self.partial = partial


def default_threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


def _check_scan_args(header, target, bits, nonce_start, count, threads):
    raw = bytes(_as_bytes(header, "header"))
    if len(raw) not in (76, 80):
        raise InputError(f"scan needs a 76- or 80-byte header, got {len(raw)} bytes")
    if (target is None) == (bits is None):
        raise InputError("give exactly one of target= or bits=")
    target_int = target_to_int(target) if target is not None else target_from_bits(bits)
    for name, value in (("nonce_start", nonce_start), ("count", count)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise InputError(f"{name} must be an integer, got {type(value).__name__}")
    nonce_start, count = int(nonce_start), int(count)
    if not 0 <= nonce_start < NONCE_SPACE:
        raise InputError(f"nonce_start {nonce_start} is outside [0, 2**32)")
    if count < 0:
        raise InputError(f"count {count} is negative")
    if nonce_start + count > NONCE_SPACE:
        raise InputError(f"nonce range {nonce_start}+{count} would wrap past 2**32 "
                         f"(at most {NONCE_SPACE - nonce_start} nonces from there)")
    if threads is None:
        threads = default_threads()
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
        raise InputError(f"threads must be a positive integer, got {threads!r}")
    return raw[:76], target_int, nonce_start, count, threads


def scan(header, target=None, *, bits: int | None = None, nonce_start: int = 0,
         count: int | None = None, threads: int | None = None,
         progress: Callable[[int], None] | None = None) -> ScanResult:
    """The mining inner loop: every nonce in the range whose double hash is <= target.

    The range is cut into chunks handed out to ``threads`` workers; between chunks each
    worker checks for a stop, so Ctrl-C ends a scan within one chunk's time. ``progress``
    is called from the calling thread with the number of hashes done so far.
    """
    if count is None:
        count = NONCE_SPACE - (nonce_start if isinstance(nonce_start, int) else 0)
    header76, target_int, nonce_start, count, threads = _check_scan_args(
        header, target, bits, nonce_start, count, threads)
    module = backend()
    target_le = target_int.to_bytes(32, "little")
    chunk = int(getattr(module, "SCAN_CHUNK", 1 << 20))
    threads = max(1, min(threads, -(-count // chunk) if count else 1))
    impl = implementation()

    found: list[tuple[int, bytes]] = []
    done = [0]
    next_start = [nonce_start]
    end = nonce_start + count
    stop = threading.Event()
    state_lock = threading.Lock()

    def worker() -> None:
        while not stop.is_set():
            with state_lock:
                start = next_start[0]
                if start >= end:
                    return
                n = min(chunk, end - start)
                next_start[0] = start + n
            hits = module.scan_range(header76, target_le, start, n)
            with state_lock:
                found.extend(hits)
                done[0] += n

    t0 = time.perf_counter()
    interrupted = False
    try:
        if threads == 1:
            while next_start[0] < end:
                with state_lock:
                    start = next_start[0]
                    n = min(chunk, end - start)
                    next_start[0] = start + n
                found.extend(module.scan_range(header76, target_le, start, n))
                done[0] += n
                if progress:
                    progress(done[0])
        else:
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hashcore-scan") as ex:
                futures = [ex.submit(worker) for _ in range(threads)]
                try:
                    while True:
                        finished, pending = wait(futures, timeout=0.1,
                                                 return_when=FIRST_EXCEPTION)
                        if progress:
                            progress(done[0])
                        if not pending or any(f.exception() for f in finished):
                            break
                except KeyboardInterrupt:
                    interrupted = True
                    stop.set()
                    wait(futures)
                stop.set()
                for f in futures:
                    if f.done() and f.exception() is not None:
                        raise f.exception()
    except KeyboardInterrupt:
        interrupted = True
    seconds = time.perf_counter() - t0
    found.sort()
    result = ScanResult(
        nonces=[Found(n, h) for n, h in found], hashes=done[0], seconds=seconds,
        implementation=impl, threads=threads, target=target_int,
        nonce_start=nonce_start, count=count, found_all=not interrupted)
    if interrupted:
        raise ScanInterrupted(result)
    return result


def header_with_nonce(header76: bytes, nonce: int) -> bytes:
    """The 80-byte header for a nonce found by scan."""
    return bytes(header76[:76]) + struct.pack("<I", nonce)
