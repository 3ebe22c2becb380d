#!/usr/bin/env python3
"""Fuzz the Electrum reader (blockchain_headers: raw headers from height 0, zero-filled tail),
picked by name through auto-detection and by format."""

from __future__ import annotations

import sys

from _common import expected_errors, main, real_header_runs, scratch_dir, write  # noqa: I001

from hashcore import io

NAME = "electrum"
_DIR = scratch_dir(NAME)


def seeds() -> list[bytes]:
    runs = real_header_runs()
    out = [r + bytes(80 * 3) for r in runs[:4]]
    out.append(bytes(160))
    out.append(runs[0][:80] + bytes(80) + runs[0][80:160] if runs else bytes(80))
    return out


def one_input(data: bytes) -> None:
    path = write(_DIR / "blockchain_headers", data)
    with expected_errors():
        got = io.read_headers(path, "auto")
        assert got.format == "electrum" and got.start_height == 0
        assert data.startswith(got.data), "electrum read is not a prefix of the file"
        assert not any(data[len(got.data):]), "non-zero bytes dropped from the tail"
        assert got.count > 0 and any(got.data[-80:])
    with expected_errors():
        io.read_headers(path, "electrum")


if __name__ == "__main__":
    main(one_input)
    sys.exit(0)
