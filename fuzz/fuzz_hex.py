#!/usr/bin/env python3
"""Fuzz the hex reader (file and text): whatever it accepts must be the hex of the headers."""

from __future__ import annotations

import sys

from _common import expected_errors, main, real_header_runs, scratch_dir, write  # noqa: I001

from hashcore import io

NAME = "hex"
_DIR = scratch_dir(NAME)


def seeds() -> list[bytes]:
    out = []
    for run in real_header_runs()[:8]:
        rows = [run[i: i + 80].hex() for i in range(0, len(run), 80)]
        out.append(("\n".join(rows) + "\n").encode())
        out.append(("# a comment\n" + "  ".join(rows[:3]) + "\r\n" + rows[-1].upper()).encode())
    return out


def one_input(data: bytes) -> None:
    path = write(_DIR / "headers.hex", data)
    with expected_errors():
        got = io.read_headers(path, "hex")
        assert len(got.data) % 80 == 0 and got.count > 0
        # Accepted: the bytes are exactly the hex tokens of the non-comment lines, in order.
        lines = data.decode("ascii").splitlines()
        tokens = [t for ln in lines if not ln.strip().startswith("#") for t in ln.split()]
        assert got.data == bytes.fromhex("".join(tokens))
    with expected_errors():
        text = io.parse_hex(data.decode("utf-8", "replace"), "<fuzz>")
        assert len(text) % 80 == 0


if __name__ == "__main__":
    main(one_input)
    sys.exit(0)
