"""The hashlib backend: the oracle every fast path is tested against, and the last resort."""

from __future__ import annotations

import hashlib
import struct

import numpy as np

from hashcore.backends import Implementation
from hashcore.errors import BackendUnavailable

NAME = "hashlib"


def implementations() -> list[Implementation]:
    return [Implementation("hashlib", NAME, True, "ok", 1)]


def set_impl(name: str | None) -> None:
    if name not in (None, "hashlib"):
        raise BackendUnavailable(f"the hashlib backend has no implementation '{name}'")


def current_impl() -> str:
    return "hashlib"


def sha256d(data) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def hash_headers(buf: np.ndarray) -> np.ndarray:
    n = buf.size // 80
    out = np.empty((n, 32), dtype=np.uint8)
    raw = buf.tobytes()
    for i in range(n):
        out[i] = np.frombuffer(sha256d(raw[80 * i : 80 * i + 80]), dtype=np.uint8)
    return out


def scan_range(header76: bytes, target_le: bytes, nonce_start: int, count: int):
    target = int.from_bytes(target_le, "little")
    found = []
    sha = hashlib.sha256
    for nonce in range(nonce_start, nonce_start + count):
        digest = sha(sha(header76 + struct.pack("<I", nonce)).digest()).digest()
        if int.from_bytes(digest, "little") <= target:
            found.append((nonce, digest))
    return found
