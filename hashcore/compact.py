"""Compact nBits <-> 256-bit target, with Bitcoin Core's exact semantics.

Lives below both the hashing core (``scan(bits=...)``) and the header layer, so neither has to
import the other. The comments map each step to ``arith_uint256::SetCompact/GetCompact``.
"""

from __future__ import annotations

from typing import NamedTuple

from hashcore.errors import InputError

TWO_256 = 1 << 256


class CompactTarget(NamedTuple):
    """The decoded value with Core's two flags; a flagged value is never a valid target."""

    target: int
    negative: bool
    overflow: bool


def decode_bits(bits: int) -> CompactTarget:
    """SetCompact: size byte, 23-bit mantissa, sign bit 0x00800000."""
    if not isinstance(bits, int) or isinstance(bits, bool):
        raise InputError(f"bits must be an integer, got {type(bits).__name__}")
    if not 0 <= bits <= 0xFFFFFFFF:
        raise InputError(f"bits 0x{bits:x} does not fit in 32 bits" if bits >= 0
                         else f"bits {bits} is negative")
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        value = word >> (8 * (3 - size))
    else:
        value = word << (8 * (size - 3))
    negative = word != 0 and (bits & 0x00800000) != 0
    overflow = word != 0 and (
        size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32)
    )
    # arith_uint256 keeps only 256 bits; the overflow flag says the rest was lost.
    return CompactTarget(value % TWO_256, negative, overflow)


def target_from_bits(bits: int, *, pow_limit: int | None = None) -> int:
    """The target for valid bits, or InputError naming why they are not (Core's DeriveTarget)."""
    value, negative, overflow = decode_bits(bits)
    if negative:
        raise InputError(f"bits 0x{bits:08x} encode a negative target")
    if overflow:
        raise InputError(f"bits 0x{bits:08x} overflow 256 bits")
    if value == 0:
        raise InputError(f"bits 0x{bits:08x} encode a zero target")
    if pow_limit is not None and value > pow_limit:
        raise InputError(f"bits 0x{bits:08x} encode a target above the proof-of-work limit")
    return value


def bits_from_target(target: int) -> int:
    """GetCompact(fNegative=false): the shortest compact form, rounding the target down."""
    if not isinstance(target, int) or target < 0 or target >= TWO_256:
        raise InputError(f"target must be an integer in [0, 2**256), got {target!r}")
    size = (target.bit_length() + 7) // 8
    if size <= 3:
        compact = target << (8 * (3 - size))
    else:
        compact = target >> (8 * (size - 3))
    compact &= 0xFFFFFFFF
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    return (compact | (size << 24)) & 0xFFFFFFFF
