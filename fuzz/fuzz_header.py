#!/usr/bin/env python3
"""Fuzz BlockHeader parsing: bytes, hex text, the structured numpy view, and derived fields."""

from __future__ import annotations

import sys

import numpy as np
from _common import expected_errors, main, real_headers  # noqa: I001

from hashcore.compact import decode_bits
from hashcore.header import BlockHeader, header_array, header_bytes

NAME = "header"


def seeds() -> list[bytes]:
    hs = real_headers()
    return hs + [h.hex().encode() for h in hs[:8]] + [b"".join(hs[:5])]


def one_input(data: bytes) -> None:
    with expected_errors():
        h = BlockHeader.from_bytes(data)
        assert len(data) == 80
        assert h.to_bytes() == data, "parse/serialize round trip"
        assert h.raw_hash == h.hash[::-1]
        c = decode_bits(h.bits)
        assert h.work >= 0
        if not (c.negative or c.overflow or c.target == 0):
            assert h.target == c.target
            assert h.work == (1 << 256) // (c.target + 1)
        h.check_pow()
        repr(h)
    with expected_errors():
        text = data.decode("latin-1")
        h = BlockHeader.from_hex(text)
        assert h.to_bytes() == bytes.fromhex(text.strip())
    with expected_errors():
        arr = header_array(data)
        assert len(data) % 80 == 0
        assert arr.shape == (len(data) // 80,)
        rows = header_bytes(arr)
        assert rows.tobytes() == data
        if len(arr):
            first = BlockHeader.from_bytes(data[:80])
            assert int(arr["bits"][0]) == first.bits
            assert int(arr["nonce"][0]) == first.nonce
            assert int(arr["version"][0]) == first.version
            assert np.asarray(arr["prev_hash"][0]).tobytes() == first.prev_hash


if __name__ == "__main__":
    main(one_input)
    sys.exit(0)
