#!/usr/bin/env python3
"""Fuzz the raw reader: read_headers(format="raw"), format auto-detection, and the streaming
chunk reader, which must agree with the whole-file read."""

from __future__ import annotations

import sys

from _common import expected_errors, main, real_header_runs, scratch_dir, write  # noqa: I001

from hashcore import io
from hashcore.errors import HashcoreError

NAME = "raw"
_DIR = scratch_dir(NAME)


def seeds() -> list[bytes]:
    runs = real_header_runs()
    return runs + [r[:-1] for r in runs[:3]] + [r[: len(r) // 2] for r in runs[:3]]


def one_input(data: bytes) -> None:
    path = write(_DIR / "headers.bin", data)
    whole = None
    with expected_errors():
        whole = io.read_headers(path, "raw")
        assert whole.data == data, "raw read changed the bytes"
        assert len(data) % 80 == 0 and len(data) > 0
    try:
        streamed = b"".join(io.iter_raw_chunks(path, chunk_headers=3))
    except HashcoreError:
        streamed = None
    assert (streamed is None) == (whole is None), "streaming and whole-file reads disagree"
    if whole is not None:
        assert streamed == whole.data
    with expected_errors():
        auto = io.read_headers(path, "auto")
        assert auto.count == len(auto.data) // 80 and len(auto.data) % 80 == 0


if __name__ == "__main__":
    main(one_input)
    sys.exit(0)
