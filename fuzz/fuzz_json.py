#!/usr/bin/env python3
"""Fuzz the bitcoin-cli JSON reader: getblockheader verbose objects, lists of them, and the
non-verbose hex strings; from a file and from text."""

from __future__ import annotations

import json
import sys

from _common import expected_errors, main, real_header_runs, rpc_object, scratch_dir, write  # noqa: I001

from hashcore import io

NAME = "json"
_DIR = scratch_dir(NAME)


def seeds() -> list[bytes]:
    out = []
    runs = real_header_runs()
    for run in runs[:4]:
        rows = [run[i: i + 80] for i in range(0, len(run), 80)][:6]
        objs = [rpc_object(h, k) for k, h in enumerate(rows)]
        out.append(json.dumps(objs[0], indent=2).encode())
        out.append(json.dumps(objs).encode())
        out.append(json.dumps([h.hex() for h in rows]).encode())
        out.append(json.dumps(rows[0].hex()).encode())
    return out


def dictionary() -> list[bytes]:
    """Field names and awkward JSON values, so mutations reach the field conversions."""
    keys = [b'"hash"', b'"version"', b'"merkleroot"', b'"time"', b'"nonce"', b'"bits"',
            b'"previousblockhash"', b'"height"', b'"versionHex"']
    values = [b"1e400", b"-1e400", b"NaN", b"Infinity", b"-1", b"4294967296", b'"x"', b"null",
              b"true", b"[]", b"{}", b'"1d00ffff"', b'"zz"', b"0.5", b"-0", b'"\\ud800"']
    return keys + values


def one_input(data: bytes) -> None:
    path = write(_DIR / "headers.json", data)
    with expected_errors():
        got = io.read_headers(path, "json")
        assert len(got.data) % 80 == 0 and got.count > 0
        if got.heights is not None:
            assert len(got.heights) == got.count
    with expected_errors():
        io.parse_json(data, "<fuzz>")


if __name__ == "__main__":
    main(one_input)
    sys.exit(0)
