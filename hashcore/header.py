"""The 80-byte block header: parse, serialize, hash, target, difficulty and work.

Two views of the same bytes:

- ``BlockHeader``: one immutable header object, for code that looks at a few headers.
- ``HEADER_DTYPE`` / ``header_array``: a numpy structured view over N*80 bytes, so that the
  fields of a million headers are columns (``arr["bits"]``), not a million objects.

Byte order, stated once: ``prev_hash`` and ``merkle_root`` are kept exactly as serialized
(internal order, the order ``sha256d`` returns). ``BlockHeader.hash`` is the block hash in
**display order** (big-endian, as explorers and ``bitcoin-cli`` print it), ``hash_hex`` is
its hex; ``raw_hash`` is the internal-order digest (what the next header's ``prev_hash``
holds). Compact-bits decoding is ``hashcore.compact`` (Core's SetCompact/GetCompact); this
module only builds on it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from hashcore.compact import CompactTarget, bits_from_target, decode_bits, target_from_bits
from hashcore.errors import InputError

HEADER_SIZE = 80
_STRUCT = struct.Struct("<i32s32sIII")

# The target of difficulty 1: mainnet's powLimit rounded to compact 0x1d00ffff
# (Bitcoin Core rpc/blockchain.cpp GetDifficulty divides 0xffff by the mantissa, scaled to
# exponent 29; that is 0xffff * 2**208 / target).
DIFF1_TARGET = 0xFFFF << 208

HEADER_DTYPE = np.dtype([
    ("version", "<i4"),
    ("prev_hash", "u1", (32,)),
    ("merkle_root", "u1", (32,)),
    ("time", "<u4"),
    ("bits", "<u4"),
    ("nonce", "<u4"),
])
assert HEADER_DTYPE.itemsize == HEADER_SIZE


def difficulty_from_bits(bits: int) -> float:
    """Difficulty as Bitcoin Core reports it (GetDifficulty: float, from the compact form).

    Computed from the compact fields the way Core does, so it matches ``getblockheader``'s
    ``difficulty`` bit for bit. Negative/overflowing bits are not rejected here (Core does not
    either); check ``decode_bits`` first where validity matters.
    """
    bits = int(bits)
    shift = (bits >> 24) & 0xFF
    mantissa = bits & 0x00FFFFFF
    if mantissa == 0:
        return float("inf")
    diff = float(0x0000FFFF) / float(mantissa)
    while shift < 29:
        diff *= 256.0
        shift += 1
    while shift > 29:
        diff /= 256.0
        shift -= 1
    return diff


def work_from_bits(bits: int) -> int:
    """Expected hashes for one block at these bits: 2**256 // (target + 1) (Core GetBlockProof).

    Like Core, invalid bits (negative, overflowing or zero target) count as 0 work.
    """
    target, negative, overflow = decode_bits(int(bits))
    if negative or overflow or target == 0:
        return 0
    return (1 << 256) // (target + 1)


def _as_buffer(buf) -> np.ndarray:
    """A flat uint8 array over ``buf`` without copying (bytes, bytearray, memoryview, ndarray)."""
    if isinstance(buf, np.ndarray):
        if buf.dtype == HEADER_DTYPE:
            return buf.reshape(-1).view(np.uint8)
        if buf.dtype != np.uint8:
            raise InputError(f"header array must be uint8 or HEADER_DTYPE, got {buf.dtype}")
        arr = np.ascontiguousarray(buf).reshape(-1)
    elif isinstance(buf, str):
        raise InputError("header buffer must be bytes, not str (decode hex first)")
    else:
        try:
            arr = np.frombuffer(buf, dtype=np.uint8)
        except (TypeError, ValueError) as exc:
            raise InputError(f"header buffer must be bytes-like: {exc}") from None
    if arr.size % HEADER_SIZE:
        raise InputError(f"header buffer is {arr.size} bytes, not a multiple of {HEADER_SIZE}")
    return arr


def header_array(buf) -> np.ndarray:
    """A (N,) HEADER_DTYPE view over N*80 bytes or an (N, 80) uint8 array, zero-copy.

    The view is read-only when ``buf`` is (``bytes``). ``header_bytes(arr)`` goes back.
    """
    arr = _as_buffer(buf)
    return arr.view(HEADER_DTYPE)


def header_bytes(arr) -> np.ndarray:
    """The (N, 80) uint8 view of a header array or buffer (zero-copy)."""
    return _as_buffer(arr).reshape(-1, HEADER_SIZE)


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """One block header. ``prev_hash``/``merkle_root`` are raw (serialized, internal) order."""

    version: int
    prev_hash: bytes
    merkle_root: bytes
    time: int
    bits: int
    nonce: int

    def __post_init__(self) -> None:
        for name in ("prev_hash", "merkle_root"):
            value = getattr(self, name)
            if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
                raise InputError(f"{name} must be 32 bytes, got {value!r:.40}")
            if isinstance(value, bytearray):
                object.__setattr__(self, name, bytes(value))
        if not -(1 << 31) <= self.version < (1 << 31):
            raise InputError(f"version {self.version} does not fit in a signed 32-bit field")
        for name in ("time", "bits", "nonce"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= 0xFFFFFFFF:
                raise InputError(f"{name} {value!r} is not an unsigned 32-bit integer")

    # ---------------------------------------------------------------- bytes
    @classmethod
    def from_bytes(cls, data) -> BlockHeader:
        """Parse exactly 80 serialized bytes."""
        raw = bytes(data)
        if len(raw) != HEADER_SIZE:
            raise InputError(f"a block header is {HEADER_SIZE} bytes, got {len(raw)}")
        return cls(*_STRUCT.unpack(raw))

    @classmethod
    def from_hex(cls, text: str) -> BlockHeader:
        """Parse 160 hex digits (as ``getblockheader <hash> false`` prints)."""
        try:
            raw = bytes.fromhex(text.strip())
        except ValueError as exc:
            raise InputError(f"header hex is not valid hex: {exc}") from None
        return cls.from_bytes(raw)

    def to_bytes(self) -> bytes:
        """The 80 serialized bytes (what is hashed)."""
        return _STRUCT.pack(self.version, self.prev_hash, self.merkle_root,
                            self.time, self.bits, self.nonce)

    serialize = to_bytes

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    # ---------------------------------------------------------------- hash
    @property
    def raw_hash(self) -> bytes:
        """sha256d of the 80 bytes, internal order (what a child's prev_hash holds)."""
        from hashcore.core import sha256d

        return sha256d(self.to_bytes())

    @property
    def hash(self) -> bytes:
        """The block hash in display order (big-endian, as explorers print it)."""
        return self.raw_hash[::-1]

    @property
    def hash_hex(self) -> str:
        return self.hash.hex()

    @property
    def prev_hash_hex(self) -> str:
        """The parent's hash in display order."""
        return self.prev_hash[::-1].hex()

    @property
    def merkle_root_hex(self) -> str:
        return self.merkle_root[::-1].hex()

    # ---------------------------------------------------------------- target
    @property
    def compact(self) -> CompactTarget:
        """SetCompact of ``bits`` with Core's negative and overflow flags."""
        return decode_bits(self.bits)

    @property
    def target(self) -> int:
        """The target; raises InputError for negative, overflowing or zero bits."""
        return target_from_bits(self.bits)

    @property
    def difficulty(self) -> float:
        return difficulty_from_bits(self.bits)

    @property
    def work(self) -> int:
        """2**256 // (target + 1); 0 for invalid bits, as Core's GetBlockProof."""
        return work_from_bits(self.bits)

    def check_pow(self, pow_limit: int | None = None) -> bool:
        """Core's CheckProofOfWork: bits valid, target <= pow_limit, hash <= target."""
        target, negative, overflow = decode_bits(self.bits)
        if negative or overflow or target == 0:
            return False
        if pow_limit is not None and target > pow_limit:
            return False
        return int.from_bytes(self.raw_hash, "little") <= target

    def replace(self, **changes) -> BlockHeader:
        """A copy with some fields changed (tests mutate real headers with this)."""
        fields = {k: getattr(self, k) for k in
                  ("version", "prev_hash", "merkle_root", "time", "bits", "nonce")}
        fields.update(changes)
        return BlockHeader(**fields)

    def with_target(self, target: int) -> BlockHeader:
        """A copy whose bits encode ``target`` (rounded down by GetCompact)."""
        return self.replace(bits=bits_from_target(target))

    def __repr__(self) -> str:
        return (f"BlockHeader(hash={self.hash_hex}, version=0x{self.version & 0xFFFFFFFF:08x}, "
                f"prev={self.prev_hash_hex}, time={self.time}, bits=0x{self.bits:08x}, "
                f"nonce={self.nonce})")


def headers_from_bytes(buf) -> list[BlockHeader]:
    """Objects for every header in a buffer (for small inputs; use header_array for bulk)."""
    arr = header_bytes(buf)
    return [BlockHeader.from_bytes(row.tobytes()) for row in arr]
