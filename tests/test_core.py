"""The public hashing API over every implementation that can run here, against hashlib.

Each test runs once per available path (each C path, numba, hashlib) through
``hashcore.use(backend, impl)``; the default is restored after each test.
"""

from __future__ import annotations

import hashlib
import os
import random
import struct
from pathlib import Path

import numpy as np
import pytest

import hashcore
from hashcore import core
from hashcore.compact import target_from_bits
from hashcore.errors import InputError

GENESIS_HEX = ("0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd"
               "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c")
GENESIS_HASH = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"


def oracle(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def _paths() -> list[tuple[str, str]]:
    return [(i.backend, i.name) for i in hashcore.available_implementations() if i.available]


PATHS = _paths()


@pytest.fixture(params=PATHS, ids=[f"{b}:{n}" for b, n in PATHS])
def path(request):
    """Switch to one backend/path for the test, then restore the default choice."""
    previous = core.backend()
    backend_name, impl = request.param
    hashcore.use(backend_name, impl)
    yield backend_name, impl
    hashcore.use(previous.NAME, os.environ.get("HASHCORE_IMPL", "").strip().lower() or None)


def _slow(backend_name: str) -> bool:
    return backend_name != "c"


# --------------------------------------------------------------------------- sha256d

NIST = [  # FIPS 180-4 / NIST CAVP SHA-256 examples: message -> SHA-256
    (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    (b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
     b"lmnopqrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    (b"a" * 1_000_000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
]


@pytest.mark.parametrize("message,digest", NIST, ids=["empty", "abc", "448bit", "896bit", "1Ma"])
def test_nist_vectors_first_stage(path, message, digest):
    assert hashlib.sha256(message).hexdigest() == digest  # the vector itself
    assert hashcore.sha256d(message) == hashlib.sha256(bytes.fromhex(digest)).digest()


def test_genesis_header(path):
    raw = hashcore.sha256d(bytes.fromhex(GENESIS_HEX))
    assert raw[::-1].hex() == GENESIS_HASH


def test_random_lengths_and_alignments(path):
    rng = random.Random(7)
    n = 40 if _slow(path[0]) else 200
    for _ in range(n):
        length = rng.randrange(0, 301)
        offset = rng.randrange(0, 8)
        buf = bytearray(rng.randbytes(length + offset))
        view = memoryview(buf)[offset:]
        assert hashcore.sha256d(view) == oracle(bytes(view)), (length, offset)


def test_sha256d_accepts_numpy_and_bytearray(path):
    data = np.arange(100, dtype=np.uint8)
    assert hashcore.sha256d(data) == oracle(data.tobytes())
    assert hashcore.sha256d(bytearray(b"xyz")) == oracle(b"xyz")


# --------------------------------------------------------------------------- hash_headers

def _oracle_headers(raw: bytes) -> np.ndarray:
    n = len(raw) // 80
    return np.frombuffer(b"".join(oracle(raw[80 * i: 80 * i + 80]) for i in range(n)),
                         dtype=np.uint8).reshape(n, 32)


@pytest.fixture(scope="module")
def real_headers(headers_dir: Path) -> dict[str, tuple[bytes, np.ndarray]]:
    result = {}
    for name in ("mainnet_0_9999.bin", "mainnet_822528_830592.bin"):
        raw = (headers_dir / "mainnet" / name).read_bytes()
        result[name] = (raw, _oracle_headers(raw))
    return result


def test_hash_headers_real(path, real_headers):
    for name, (raw, want) in real_headers.items():
        if _slow(path[0]):
            raw, want = raw[: 80 * 1000], want[:1000]
        got = hashcore.hash_headers(raw)
        assert got.shape == want.shape and got.dtype == np.uint8, name
        assert np.array_equal(got, want), name


@pytest.fixture(scope="module")
def header_batch() -> bytes:
    rng = random.Random(11)
    return rng.randbytes(80 * 80)


BATCH_SIZES = list(range(1, 41)) + [63, 64, 65, 79]


def test_hash_headers_batch_sizes(path, header_batch):
    want = _oracle_headers(header_batch)
    for n in BATCH_SIZES:
        for offset in (0, 3):
            buf = np.frombuffer(bytes(offset) + header_batch[: 80 * n], dtype=np.uint8)[offset:]
            got = hashcore.hash_headers(buf)
            assert np.array_equal(got, want[:n]), (n, offset)


def test_hash_headers_shapes(path, header_batch):
    two_d = np.frombuffer(header_batch[:800], dtype=np.uint8).reshape(10, 80)
    assert np.array_equal(hashcore.hash_headers(two_d), _oracle_headers(header_batch[:800]))
    assert hashcore.hash_headers(b"").shape == (0, 32)
    assert np.array_equal(hashcore.hash_headers(memoryview(header_batch[:160])),
                          _oracle_headers(header_batch[:160]))


# --------------------------------------------------------------------------- scan

def _header_nonce_bits(raw: bytes) -> tuple[bytes, int, int]:
    nonce, = struct.unpack_from("<I", raw, 76)
    bits, = struct.unpack_from("<I", raw, 72)
    return raw[:76], nonce, bits


@pytest.fixture(scope="module")
def solved_headers(headers_dir: Path) -> list[bytes]:
    early = (headers_dir / "mainnet" / "mainnet_0_9999.bin").read_bytes()
    modern = (headers_dir / "mainnet" / "mainnet_822528_830592.bin").read_bytes()
    picks = [early[0:80], early[80 * 1234: 80 * 1235], modern[80 * 17: 80 * 18],
             modern[80 * 8000: 80 * 8001]]
    return picks


def test_scan_finds_the_real_nonce(path, solved_headers):
    before = 500 if _slow(path[0]) else 3000
    for raw in solved_headers:
        header76, nonce, bits = _header_nonce_bits(raw)
        start = max(0, nonce - before)
        count = min(nonce - start + 50, 2**32 - start)
        result = hashcore.scan(header76, bits=bits, nonce_start=start, count=count, threads=1)
        assert [f.nonce for f in result.nonces] == [nonce]
        assert result.nonces[0].hash == oracle(raw)
        assert int.from_bytes(result.nonces[0].hash, "little") <= target_from_bits(bits)
        assert result.hashes == count


def test_scan_without_solution(path, solved_headers):
    header76, nonce, bits = _header_nonce_bits(solved_headers[2])
    start = nonce + 1 if nonce < 2**32 - 3000 else nonce - 3000
    result = hashcore.scan(header76, bits=bits, nonce_start=start, count=2000, threads=1)
    assert result.nonces == [] and result.hashes == 2000


def test_scan_every_nonce_meets_a_huge_target(path, solved_headers):
    header76 = solved_headers[1][:76]
    result = hashcore.scan(header76, target=2**256 - 1, nonce_start=1000, count=300, threads=1)
    assert [f.nonce for f in result.nonces] == list(range(1000, 1300))
    for f in result.nonces[::37]:
        assert f.hash == oracle(header76 + struct.pack("<I", f.nonce))


def test_scan_threads_agree(path, solved_headers, monkeypatch):
    module = core.backend()
    monkeypatch.setattr(module, "SCAN_CHUNK", 700, raising=False)  # many chunks, both threads
    header76 = solved_headers[3][:76]
    count = 3000 if _slow(path[0]) else 20000
    target = 1 << 248  # about one nonce in 256 qualifies
    one = hashcore.scan(header76, target=target, nonce_start=123, count=count, threads=1)
    two = hashcore.scan(header76, target=target, nonce_start=123, count=count, threads=2)
    assert one.nonces == two.nonces and one.hashes == two.hashes == count
    assert two.threads == 2
    assert len(one.nonces) > 0
    for f in one.nonces:
        digest = oracle(header76 + struct.pack("<I", f.nonce))
        assert f.hash == digest and int.from_bytes(digest, "little") <= target
    # and nothing was missed: every qualifying nonce of a small slice, by brute force
    want = [n for n in range(123, 123 + 1500)
            if int.from_bytes(oracle(header76 + struct.pack("<I", n)), "little") <= target]
    assert [f.nonce for f in one.nonces if f.nonce < 123 + 1500] == want


def test_scan_edges(path, solved_headers):
    header76 = solved_headers[0][:76]
    empty = hashcore.scan(header76, target=2**256 - 1, nonce_start=5, count=0)
    assert empty.nonces == [] and empty.hashes == 0
    last = hashcore.scan(header76, target=2**256 - 1, nonce_start=2**32 - 20, count=20, threads=1)
    assert [f.nonce for f in last.nonces] == list(range(2**32 - 20, 2**32))
    assert last.nonces[-1].hash == oracle(header76 + b"\xff\xff\xff\xff")
    with pytest.raises(InputError, match="wrap"):
        hashcore.scan(header76, target=1, nonce_start=2**32 - 1, count=2)
    full80 = hashcore.scan(solved_headers[0], bits=0x1d00ffff, nonce_start=2083236893, count=1)
    assert [f.nonce for f in full80.nonces] == [2083236893]


# --------------------------------------------------------------------------- bad input

def test_bad_input(path):
    header = bytes(76)
    bad_calls = [
        lambda: hashcore.sha256d("abc"),
        lambda: hashcore.sha256d(12),
        lambda: hashcore.hash_headers(bytes(79)),
        lambda: hashcore.hash_headers("00" * 80),
        lambda: hashcore.scan(bytes(75), target=1, count=1),
        lambda: hashcore.scan(bytes(81), target=1, count=1),
        lambda: hashcore.scan(header.hex(), target=1, count=1),
        lambda: hashcore.scan(header, target=0, count=1),
        lambda: hashcore.scan(header, target=2**256, count=1),
        lambda: hashcore.scan(header, target=-5, count=1),
        lambda: hashcore.scan(header, target=bytes(31), count=1),
        lambda: hashcore.scan(header, target=1, count=-1),
        lambda: hashcore.scan(header, target=1, nonce_start=-1, count=1),
        lambda: hashcore.scan(header, target=1, nonce_start=2**32, count=0),
        lambda: hashcore.scan(header, target=1, count=1, threads=0),
        lambda: hashcore.scan(header, count=1),
        lambda: hashcore.scan(header, target=1, bits=0x1d00ffff, count=1),
        lambda: hashcore.scan(header, target=1.5, count=1),
    ]
    for i, call in enumerate(bad_calls):
        with pytest.raises(InputError):
            call()
            pytest.fail(f"bad call {i} was accepted")
