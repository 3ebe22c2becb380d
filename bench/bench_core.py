"""pytest-benchmark suites for the hashing core: every operation, per path and batch size.

Run with ``pytest bench/bench_core.py --benchmark-json=out.json`` (see bench/README.md).
Groups are the operations; within a group each entry is one path and one size. Every
benchmark first checks its path's output against hashlib, so a fast wrong path fails
instead of winning. ``extra_info`` carries the hashes per call, so rates can be derived.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from hashcore import core
from hashcore.bench import BENCH_HEADER, SCAN_BITS
from hashcore.compact import target_from_bits

HEADER_BATCHES = [1, 64, 4096]
SCAN_COUNTS = [4096, 65536]
SHA256D_SIZES = [80, 1024]


def _sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


@pytest.mark.benchmark(group="headers")
@pytest.mark.parametrize("batch", HEADER_BATCHES)
def test_hash_headers(benchmark, use_path, batch):
    buf = np.random.default_rng(batch).integers(0, 256, 80 * batch, dtype=np.uint8)
    raw = buf.tobytes()
    want = [_sha256d(raw[80 * i:80 * i + 80]) for i in range(min(batch, 64))]
    out = benchmark(core.hash_headers, buf)
    assert [bytes(row) for row in out[:64]] == want
    benchmark.extra_info.update(operation="headers", implementation=use_path,
                                hashes_per_call=batch)


@pytest.mark.benchmark(group="scan")
@pytest.mark.parametrize("count", SCAN_COUNTS)
def test_scan(benchmark, use_path, count):
    header76 = BENCH_HEADER[:76]
    easy = 1 << 250  # about one nonce in 64 passes: checks the hits, costs nothing to report
    got = core.scan(header76, target=easy, count=512, threads=1)
    want = [n for n in range(512) if int.from_bytes(
        _sha256d(header76 + n.to_bytes(4, "little")), "little") <= easy]
    assert [f.nonce for f in got.nonces] == want
    result = benchmark(core.scan, header76, bits=SCAN_BITS, count=count, threads=1)
    assert result.hashes == count and target_from_bits(SCAN_BITS) == result.target
    benchmark.extra_info.update(operation="scan", implementation=use_path,
                                hashes_per_call=count)


@pytest.mark.benchmark(group="sha256d")
@pytest.mark.parametrize("size", SHA256D_SIZES)
def test_sha256d(benchmark, use_path, size):
    data = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    assert core.sha256d(data) == _sha256d(data)
    benchmark(core.sha256d, data)
    benchmark.extra_info.update(operation="sha256d", implementation=use_path,
                                hashes_per_call=1, bytes=size)
