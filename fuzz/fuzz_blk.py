#!/usr/bin/env python3
"""Fuzz the blk*.dat reader without XOR: one file, a blocks/ folder of up to three files, and
auto-detection. Byte 0 picks how the rest is cut into files."""

from __future__ import annotations

import shutil
import sys

from _common import (  # noqa: I001
    TESTNET3_MAGIC,
    blk_records,
    expected_errors,
    main,
    real_headers,
    scratch_dir,
    write,
)

from hashcore import io

NAME = "blk"
_DIR = scratch_dir(NAME)


def seeds() -> list[bytes]:
    hs = real_headers()
    main_hs = hs[:30]
    out = [b"\x00" + blk_records(main_hs[:10]), b"\x01" + blk_records(main_hs[::-1]),
           b"\x02" + blk_records(main_hs[:5]) + bytes(64),
           b"\x00" + blk_records(hs[-5:], TESTNET3_MAGIC),
           b"\x03" + blk_records(main_hs[:2], tx_len=200)]
    return out


def layout(data: bytes) -> list[bytes]:
    """1..3 files: the rest split at points taken from byte 0."""
    if not data:
        return [b""]
    mode, body = data[0], data[1:]
    parts = (mode % 3) + 1
    if parts == 1:
        return [body]
    cut = (mode * 37) % (len(body) + 1)
    first, rest = body[:cut], body[cut:]
    return [first, rest] if parts == 2 else [first, rest[: len(rest) // 2], rest[len(rest) // 2:]]


def one_input(data: bytes) -> None:
    shutil.rmtree(_DIR / "blocks", ignore_errors=True)
    blocks = _DIR / "blocks"
    blocks.mkdir()
    files = [write(blocks / f"blk{i:05d}.dat", part) for i, part in enumerate(layout(data))]
    with expected_errors():
        one = io.read_headers(files[0], "blk")
        assert len(one.data) % 80 == 0 and one.count > 0
    with expected_errors():
        folder = io.read_headers(blocks, "auto")
        assert folder.format == "blk" and len(folder.data) % 80 == 0
    with expected_errors():
        io.read_headers(files[0], "auto")


if __name__ == "__main__":
    main(one_input)
    sys.exit(0)
