#!/usr/bin/env python3
"""Fuzz the blk*.dat reader with Core 28+'s XOR key (blocks/xor.dat).

Bytes 0..7 are the key, the rest the file as it lies on disk (obfuscated). The same file
de-obfuscated here and read without a key must give the same headers, or the same refusal.
"""

from __future__ import annotations

import shutil
import sys

from _common import (  # noqa: I001
    blk_records,
    expected_errors,
    main,
    real_headers,
    scratch_dir,
    write,
    xor_with,
)

from hashcore import io
from hashcore.errors import HashcoreError

NAME = "blk_xor"
_DIR = scratch_dir(NAME)
KEYS = (bytes.fromhex("5a3c9e0112f0a7d4"), bytes(8), bytes.fromhex("ff00ff00ff00ff00"))


def seeds() -> list[bytes]:
    hs = real_headers()[:20]
    plain = blk_records(hs[:8])
    return [k + xor_with(plain, k) for k in KEYS] + [KEYS[0] + xor_with(plain + bytes(40), KEYS[0])]


def _read(path):
    try:
        return io.read_headers(path, "blk").data
    except HashcoreError:
        return None


def one_input(data: bytes) -> None:
    shutil.rmtree(_DIR / "a", ignore_errors=True)
    shutil.rmtree(_DIR / "b", ignore_errors=True)
    key, body = data[:8], data[8:]
    a, b = _DIR / "a", _DIR / "b"
    a.mkdir()
    b.mkdir()
    write(a / "xor.dat", key)
    obfuscated = write(a / "blk00000.dat", body)
    with expected_errors():
        io.read_headers(a, "auto")
    with expected_errors():
        io.read_headers(obfuscated, "auto")
    if len(key) == 8:
        plain = write(b / "blk00000.dat", xor_with(body, key))
        assert _read(obfuscated) == _read(plain), "XOR-keyed read differs from the plain read"


if __name__ == "__main__":
    main(one_input)
    sys.exit(0)
