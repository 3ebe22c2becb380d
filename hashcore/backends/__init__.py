"""Hashing backends: one interface, three implementations (C via cffi, Numba, hashlib).

A backend module exposes:

- ``NAME``: "c", "numba" or "hashlib".
- ``implementations() -> list[Implementation]``: every path it knows, available or not, with
  its self-test result.
- ``set_impl(name: str | None) -> None``: force a path (None: the dispatcher's choice);
  raises ``BackendUnavailable`` for an unknown or failed path.
- ``current_impl() -> str``: what runs now, for example ``"avx512(16)"``.
- ``sha256d(data: bytes-like) -> bytes``: the raw 32-byte digest (hashlib byte order).
- ``hash_headers(buf: np.ndarray) -> np.ndarray``: ``buf`` is a C-contiguous 1-D uint8 array
  of N*80 bytes (already checked by the core); returns (N, 32) uint8 raw digests.
- ``scan_range(header76: bytes, target_le: bytes, nonce_start: int, count: int)
  -> list[tuple[int, bytes]]``: every nonce in [start, start+count) whose double hash, read
  as a 256-bit little-endian integer, is <= the target (given as 32 little-endian bytes),
  with its raw digest, in ascending nonce order. Arguments are already checked by the core;
  the call is single-threaded and should release the GIL so the core can split ranges across
  threads.

The core (``hashcore.core``) does all argument checking, threading, chunking and timing.
"""

from __future__ import annotations

from dataclasses import dataclass

BACKEND_NAMES = ("c", "numba", "hashlib")


@dataclass(frozen=True)
class Implementation:
    """One hashing path and whether it may run here."""

    name: str
    backend: str
    available: bool
    selftest: str  # "ok", "failed: <why>", "not compiled", "cpu lacks <feature>", ...
    lanes: int = 1
