"""The C backend: the cffi extension ``hashcore._hashcore_c`` (csrc/), runtime-dispatched.

At import the extension's compiled-in version is checked against this package (a stale
``.so`` fails loudly), the C side detects the CPU and self-tests every path; a path whose
self-test failed is skipped with a warning that says why. No numba import on this path.
"""

from __future__ import annotations

import warnings

import numpy as np

from hashcore._version import __version__
from hashcore.backends import Implementation
from hashcore.errors import BackendUnavailable, HashcoreError, InputError

try:
    from hashcore._hashcore_c import ffi, lib
except ImportError as exc:  # not built (no compiler at install time) or wrong platform
    raise ImportError(f"the hashcore C extension is not built ({exc})") from exc

NAME = "c"
HC_ABI = 1  # must match HC_ABI in csrc/hashcore.h
EXPECTED_VERSION = f"{__version__}+abi{HC_ABI}"

# Nonces per scan_range call the core hands out: about 0.05-0.2 s on each path at the rates
# tools/measure_core.py measured (docs/core.md), so Ctrl-C is prompt and threads balance.
_CHUNK_BY_IMPL = {"scalar": 1 << 18, "arm": 1 << 20, "avx2": 1 << 20, "shani": 1 << 21,
                  "avx512": 1 << 22}
SCAN_CHUNK = 1 << 20
_HITS_START = 64  # hit buffer slots per call; grown and rescanned on overflow

_ERRORS = {lib.HC_ERR_NULL: "NULL pointer", lib.HC_ERR_LENGTH: "bad length",
           lib.HC_ERR_RANGE: "nonce range wraps past 2**32",
           lib.HC_ERR_IMPL: "implementation unavailable", lib.HC_ERR_INIT: "not initialised"}


def check_version(got: str, expected: str = EXPECTED_VERSION) -> None:
    """Refuse an extension built from other sources than this package.

    Raises ImportError (so the core can still fall back to another backend) after a warning
    that names the problem, since the core's own fallback warning is generic.
    """
    if got != expected:
        message = (f"stale hashcore C extension: it reports version {got!r}, this package "
                   f"expects {expected!r}; rebuild it (`python setup.py build_ext --inplace` "
                   f"or `pip install --force-reinstall --no-deps .`)")
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        raise ImportError(message)


check_version(ffi.string(lib.hc_version()).decode())
if lib.hc_init() != lib.HC_OK:
    raise ImportError("the hashcore C extension failed its scalar self-test; it cannot be used")

_NAMES = [ffi.string(lib.hc_impl_name(i)).decode() for i in range(lib.hc_impl_count())]


def _check(rc: int, what: str) -> None:
    if rc != lib.HC_OK:
        raise HashcoreError(f"C core {what} failed: {_ERRORS.get(rc, rc)}")


def implementations() -> list[Implementation]:
    return [Implementation(name, NAME, lib.hc_impl_status(i) == lib.HC_STATUS_OK,
                           ffi.string(lib.hc_impl_reason(i)).decode(), lib.hc_impl_lanes(i))
            for i, name in enumerate(_NAMES)]


def _warn_failed_selftests() -> None:
    for i, name in enumerate(_NAMES):
        if lib.hc_impl_status(i) == lib.HC_STATUS_SELFTEST_FAILED:
            reason = ffi.string(lib.hc_impl_reason(i)).decode()
            fallback = _NAMES[lib.hc_auto_impl()]
            warnings.warn(f"hashcore C path '{name}' is skipped ({reason}); using '{fallback}'",
                          RuntimeWarning, stacklevel=3)


def _set_chunk() -> None:
    global SCAN_CHUNK
    SCAN_CHUNK = _CHUNK_BY_IMPL.get(_NAMES[lib.hc_current_impl()], 1 << 20)


def set_impl(name: str | None) -> None:
    """Force a path by name (scalar, shani, avx2, avx512, arm); None: the dispatcher's choice."""
    if name is None:
        _check(lib.hc_set_impl(lib.HC_IMPL_AUTO), "set_impl")
    else:
        if name not in _NAMES:
            raise BackendUnavailable(
                f"the C backend has no implementation '{name}' (choose from {', '.join(_NAMES)})")
        i = _NAMES.index(name)
        if lib.hc_set_impl(i) != lib.HC_OK:
            reason = ffi.string(lib.hc_impl_reason(i)).decode()
            raise BackendUnavailable(f"C implementation '{name}' cannot run here: {reason}")
    _set_chunk()


def current_impl() -> str:
    i = lib.hc_current_impl()
    return f"{_NAMES[i]}({lib.hc_impl_lanes(i)})"


def build_info() -> dict:
    """How the extension was built, for the benchmark records."""
    return {
        "extension_version": ffi.string(lib.hc_version()).decode(),
        "compiler": ffi.string(lib.hc_compiler()).decode().strip(),
        "flags": ffi.string(lib.hc_build_flags()).decode(),
        "sanitize": ffi.string(lib.hc_sanitize()).decode() or None,
        "cpu_features": cpu_features(),
        "auto_impl": _NAMES[lib.hc_auto_impl()],
    }


def cpu_features() -> list[str]:
    """The CPU features the C side detected (cpuid + xgetbv, or AT_HWCAP on ARM)."""
    mask = lib.hc_cpu_features()
    names = {"sse4.1": lib.HC_CPU_SSE41, "sha": lib.HC_CPU_SHA, "avx": lib.HC_CPU_AVX,
             "avx2": lib.HC_CPU_AVX2, "avx512f/vl/bw": lib.HC_CPU_AVX512,
             "arm-sha2": lib.HC_CPU_ARM_SHA2, "osxsave": lib.HC_CPU_OSXSAVE}
    return [name for name, bit in names.items() if mask & bit]


def sha256(data) -> bytes:
    """One SHA-256 through the scalar C reference (for NIST vectors in tests)."""
    out = ffi.new("uint8_t[32]")
    _check(lib.hc_sha256(ffi.from_buffer(data), len(memoryview(data).cast("B")), out), "sha256")
    return bytes(out)


def sha256d(data) -> bytes:
    # The Python-call cost is most of a single short hash, so this path stays lean: the
    # core has already checked that ``data`` is a contiguous bytes-like object, and a
    # from_buffer cdata's len() is its size in bytes whatever the buffer's item type.
    src = _from_buffer(data)
    out = _new("uint8_t[32]")
    rc = _sha256d(src, len(src), out)
    if rc:
        _check(rc, "sha256d")
    return _buffer(out)[:]


_from_buffer, _new, _buffer, _sha256d = ffi.from_buffer, ffi.new, ffi.buffer, lib.hc_sha256d


def hash_headers(buf: np.ndarray) -> np.ndarray:
    if buf.dtype != np.uint8 or buf.ndim != 1 or not buf.flags.c_contiguous or buf.size % 80:
        raise InputError("hash_headers needs a contiguous 1-D uint8 array of N*80 bytes")
    n = buf.size // 80
    out = np.empty((n, 32), dtype=np.uint8)
    _check(lib.hc_hash_headers(ffi.from_buffer(buf), buf.size, ffi.from_buffer(out), out.size),
           "hash_headers")
    return out


def scan_range(header76: bytes, target_le: bytes, nonce_start: int, count: int):
    if len(header76) != 76 or len(target_le) != 32:
        raise InputError("scan_range needs a 76-byte header and a 32-byte target")
    if count < 0 or not 0 <= nonce_start < 1 << 32 or nonce_start + count > 1 << 32:
        raise InputError(f"nonce range {nonce_start}+{count} is outside [0, 2**32)")
    capacity = _HITS_START
    n_found = ffi.new("uint64_t *")
    while True:
        nonces = ffi.new("uint32_t[]", capacity)
        hashes = ffi.new("uint8_t[]", 32 * capacity)
        _check(lib.hc_scan(header76, 76, target_le, nonce_start, count, nonces, hashes,
                           capacity, n_found), "scan")
        found = n_found[0]
        if found <= capacity:
            raw = ffi.buffer(hashes, 32 * found)[:]
            return [(nonces[i], raw[32 * i: 32 * i + 32]) for i in range(found)]
        capacity = int(found)  # overflow: rescan this range with room for every hit


_warn_failed_selftests()
_set_chunk()
