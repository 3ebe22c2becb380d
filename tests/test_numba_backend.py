"""The Numba backend against the hashlib oracle, and the rules around loading it.

Fixed vectors, random messages, header batches whose sizes are not multiples of the lane
count, scans that must find the real nonce of real headers, targets at the edges, selection
by API and environment, that the C/hashlib paths never import numba, and one run of the
kernel bodies as plain Python (``NUMBA_DISABLE_JIT=1``).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba", reason="numba is not installed; the numba backend cannot run")

import hashcore  # noqa: E402
from hashcore import core  # noqa: E402
from hashcore.backends import numba as nb  # noqa: E402
from hashcore.backends import reference as ref  # noqa: E402
from hashcore.compact import target_from_bits  # noqa: E402
from hashcore.errors import BackendUnavailable  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
GENESIS = bytes.fromhex(
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd"
    "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c")
GENESIS_HASH = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
MAX_TARGET = (1 << 256) - 1


def _le(target: int) -> bytes:
    return target.to_bytes(32, "little")


def _nonce(header: bytes) -> int:
    return int.from_bytes(header[76:80], "little")


def _bits(header: bytes) -> int:
    return int.from_bytes(header[72:76], "little")


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("HASHCORE_")}
    if "HASHCORE_SHARED_DATA" in os.environ:
        full_env["HASHCORE_SHARED_DATA"] = os.environ["HASHCORE_SHARED_DATA"]
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=full_env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def mainnet_early(headers_dir: Path) -> bytes:
    return (headers_dir / "mainnet" / "mainnet_0_9999.bin").read_bytes()


@pytest.fixture(scope="module")
def mainnet_modern(headers_dir: Path) -> bytes:
    return (headers_dir / "mainnet" / "mainnet_822528_830592.bin").read_bytes()


# --------------------------------------------------------------------------- fixed vectors

def test_known_vectors() -> None:
    assert nb.sha256d(b"").hex() == (
        "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456")
    assert nb.sha256d(b"abc").hex() == (
        "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358")
    assert nb.sha256d(GENESIS)[::-1].hex() == GENESIS_HASH
    heads = nb.hash_headers(np.frombuffer(GENESIS, dtype=np.uint8))
    assert heads.shape == (1, 32) and heads.dtype == np.uint8
    assert heads[0].tobytes()[::-1].hex() == GENESIS_HASH


def test_genesis_file_matches_the_constant(headers_dir: Path) -> None:
    assert (headers_dir / "mainnet" / "mainnet_genesis.bin").read_bytes() == GENESIS


def test_interface() -> None:
    assert nb.NAME == "numba"
    (impl,) = nb.implementations()
    assert (impl.name, impl.backend, impl.available, impl.selftest) == (
        "numba", "numba", True, "ok")
    assert impl.lanes >= 8
    assert nb.current_impl() == f"numba({impl.lanes} lanes)"
    nb.set_impl(None)
    nb.set_impl("numba")
    with pytest.raises(BackendUnavailable, match="no implementation 'avx2'"):
        nb.set_impl("avx2")
    assert isinstance(nb.SCAN_CHUNK, int) and nb.SCAN_CHUNK >= 1 << 16


# --------------------------------------------------------------------------- sha256d

def test_sha256d_random_lengths() -> None:
    rng = random.Random(2)
    for length in range(0, 301):
        data = rng.randbytes(length)
        assert nb.sha256d(data) == ref.sha256d(data), length


def test_sha256d_buffer_types_and_alignment() -> None:
    raw = np.frombuffer(random.Random(3).randbytes(200), dtype=np.uint8)
    for offset in range(1, 8):
        view = raw[offset:offset + 150]  # misaligned start
        assert nb.sha256d(memoryview(view)) == ref.sha256d(view.tobytes())
    writable = bytearray(b"hashcore" * 20)
    assert nb.sha256d(writable) == ref.sha256d(bytes(writable))


# --------------------------------------------------------------------------- hash_headers

def test_hash_headers_random_batches() -> None:
    rng = random.Random(4)
    for n in range(1, 41):
        raw = rng.randbytes(80 * n + 1)
        arr = np.frombuffer(raw, dtype=np.uint8)[1:]  # misaligned by one byte
        got = nb.hash_headers(arr)
        want = ref.hash_headers(arr)
        assert got.shape == (n, 32)
        assert np.array_equal(got, want), n


def test_hash_headers_real_batches(mainnet_early: bytes, mainnet_modern: bytes) -> None:
    for data in (mainnet_early, mainnet_modern[: 80 * 1234 + 80 * 7]):
        arr = np.frombuffer(data, dtype=np.uint8)
        got = nb.hash_headers(arr)  # 10,000 headers: the threaded split runs
        assert np.array_equal(got, ref.hash_headers(arr))
    # Every modern header meets its own target (the hash is read little-endian).
    arr = np.frombuffer(mainnet_modern[: 80 * 100], dtype=np.uint8)
    for i, digest in enumerate(nb.hash_headers(arr)):
        header = mainnet_modern[80 * i: 80 * i + 80]
        assert int.from_bytes(digest.tobytes(), "little") <= target_from_bits(_bits(header))


def test_hash_headers_through_the_core_with_writable_input(mainnet_early: bytes) -> None:
    arr = np.frombuffer(mainnet_early[: 80 * 37], dtype=np.uint8).copy()  # writable array
    got = nb.hash_headers(arr)
    assert arr.flags.writeable  # the caller's array is left as it was
    assert np.array_equal(got, ref.hash_headers(arr))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is not available here")
def test_hash_headers_threads_work_after_fork(mainnet_early: bytes) -> None:
    arr = np.frombuffer(mainnet_early, dtype=np.uint8)
    want = nb.hash_headers(arr)  # 10,000 headers: the parent's thread pool is running
    pid = os.fork()
    if pid == 0:  # child: the pool threads did not survive the fork
        code = 2
        try:
            code = 0 if np.array_equal(nb.hash_headers(arr), want) else 1
        finally:
            os._exit(code)
    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("hash_headers hung in a forked child")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0


# --------------------------------------------------------------------------- scan_range

@pytest.mark.parametrize("which, index", [
    ("early", 1), ("early", 170), ("early", 9999), ("modern", 0), ("modern", 8064),
])
def test_scan_finds_the_real_nonce(which: str, index: int, mainnet_early: bytes,
                                   mainnet_modern: bytes) -> None:
    data = mainnet_early if which == "early" else mainnet_modern
    header = data[80 * index: 80 * index + 80]
    nonce = _nonce(header)
    start = max(0, nonce - 3000)
    count = min(4000, (1 << 32) - start)
    target = _le(target_from_bits(_bits(header)))
    got = nb.scan_range(header[:76], target, start, count)
    assert got == ref.scan_range(header[:76], target, start, count)
    assert [n for n, _ in got] == [nonce]
    assert got[0][1] == ref.sha256d(header)


def test_scan_target_is_inclusive_on_the_full_256_bits() -> None:
    nonce = _nonce(GENESIS)
    value = int.from_bytes(ref.sha256d(GENESIS), "little")
    start, count = nonce - 500, 1000
    hit = nb.scan_range(GENESIS[:76], _le(value), start, count)
    assert [n for n, _ in hit] == [nonce]
    assert nb.scan_range(GENESIS[:76], _le(value - 1), start, count) == []
    # Same top 32 bits, lower bits below the hash: only the full comparison rejects it.
    assert value >> 224 == (value - 1) >> 224


def test_scan_huge_target_returns_every_nonce() -> None:
    count = 3000  # more hits than one kernel call returns: the wrapper resumes
    got = nb.scan_range(GENESIS[:76], _le(MAX_TARGET), 123_456, count)
    assert [n for n, _ in got] == list(range(123_456, 123_456 + count))
    assert got == ref.scan_range(GENESIS[:76], _le(MAX_TARGET), 123_456, count)


@pytest.mark.parametrize("capacity", [1, 7])
def test_scan_resumes_when_the_hit_buffer_fills(capacity: int,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nb, "_HIT_CAPACITY", capacity)
    got = nb.scan_range(GENESIS[:76], _le(MAX_TARGET), 1000, 45)
    assert got == ref.scan_range(GENESIS[:76], _le(MAX_TARGET), 1000, 45)
    target = _le(1 << 251)  # scattered hits, some in the same lane block
    got = nb.scan_range(GENESIS[:76], target, 0, 2000)
    assert got == ref.scan_range(GENESIS[:76], target, 0, 2000)
    assert len(got) > 20


def test_scan_last_nonces_and_empty_range() -> None:
    start = (1 << 32) - 37  # not a multiple of the lane count; ends at 0xffffffff
    got = nb.scan_range(GENESIS[:76], _le(MAX_TARGET), start, 37)
    assert [n for n, _ in got] == list(range(start, 1 << 32))
    assert got == ref.scan_range(GENESIS[:76], _le(MAX_TARGET), start, 37)
    assert nb.scan_range(GENESIS[:76], _le(MAX_TARGET), 5, 0) == []


def test_scan_partial_lane_blocks_agree_with_hashlib() -> None:
    target = _le(1 << 250)  # about one nonce in 64 hits
    for start, count in ((0, 1), (3, 15), (1000, 17), (77, 250)):
        got = nb.scan_range(GENESIS[:76], target, start, count)
        assert got == ref.scan_range(GENESIS[:76], target, start, count), (start, count)


# --------------------------------------------------------------------------- via the core

@pytest.fixture
def numba_core(monkeypatch: pytest.MonkeyPatch):
    """The core switched to numba for one test, switched back afterwards."""
    monkeypatch.setattr(core, "_backend", core._backend)
    assert hashcore.use("numba") == f"numba:{nb.current_impl()}"
    return core


def test_core_use_numba(numba_core, mainnet_early: bytes) -> None:
    assert hashcore.implementation.startswith("numba:numba(")
    assert hashcore.sha256d(GENESIS)[::-1].hex() == GENESIS_HASH
    heads = hashcore.hash_headers(mainnet_early[: 80 * 21])
    assert np.array_equal(heads, ref.hash_headers(
        np.frombuffer(mainnet_early[: 80 * 21], dtype=np.uint8)))
    r = hashcore.scan(GENESIS, bits=0x1D00FFFF, nonce_start=_nonce(GENESIS) - 100, count=200,
                      threads=1)
    assert [f.nonce for f in r.nonces] == [_nonce(GENESIS)]
    assert r.nonces[0].hash_hex == GENESIS_HASH and r.hashes == 200
    assert r.implementation.startswith("numba:")
    empty = hashcore.scan(GENESIS, bits=0x1D00FFFF, nonce_start=7, count=0)
    assert empty.nonces == [] and empty.hashes == 0


def test_core_threads_agree(numba_core, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nb, "SCAN_CHUNK", 4096)  # several chunks, so both threads work
    target = 1 << 248
    one = hashcore.scan(GENESIS, target, nonce_start=5000, count=30_000, threads=1)
    two = hashcore.scan(GENESIS, target, nonce_start=5000, count=30_000, threads=2)
    assert two.threads == 2 and one.hashes == two.hashes == 30_000
    assert one.nonces == two.nonces
    want = ref.scan_range(GENESIS[:76], _le(target), 5000, 30_000)
    assert [(f.nonce, f.hash) for f in two.nonces] == want
    assert len(want) > 50  # the comparison above covered many hits


def test_env_selects_numba() -> None:
    proc = _run("import hashcore; print(hashcore.implementation); "
                "print(hashcore.sha256d(b'abc').hex())", HASHCORE_BACKEND="numba")
    assert proc.returncode == 0, proc.stderr
    impl, digest = proc.stdout.splitlines()
    assert impl == f"numba:{nb.current_impl()}"
    assert digest == "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358"


def test_env_forces_unknown_impl_cleanly() -> None:
    proc = _run("import hashcore; hashcore.sha256d(b'x')",
                HASHCORE_BACKEND="numba", HASHCORE_IMPL="avx512")
    assert proc.returncode != 0
    assert "no implementation 'avx512'" in proc.stderr


_NO_NUMBA = ("import sys, hashcore; hashcore.sha256d(b'x'); print(hashcore.implementation); "
             "print('numba' in sys.modules)")


def test_hashlib_backend_does_not_import_numba() -> None:
    proc = _run(_NO_NUMBA, HASHCORE_BACKEND="hashlib")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["hashlib:hashlib", "False"]
    bare = _run("import sys, hashcore; print('numba' in sys.modules)")
    assert bare.stdout.split() == ["False"], bare.stderr


def test_c_backend_does_not_import_numba() -> None:
    probe = _run("import hashcore.backends.c")
    if probe.returncode != 0:
        pytest.skip("the C backend is not built here: "
                    + (probe.stderr.strip().splitlines() or ["?"])[-1])
    for env in ({"HASHCORE_BACKEND": "c"}, {}):
        proc = _run(_NO_NUMBA, **env)
        assert proc.returncode == 0, proc.stderr
        impl, imported = proc.stdout.splitlines()
        assert impl.startswith("c:") and imported == "False", (env, proc.stdout)


# --------------------------------------------------------------------------- self-test

def test_failed_selftest_disables_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nb, "_force_selftest_failure", True)
    nb._reset_for_tests()
    try:
        (impl,) = nb.implementations()
        assert not impl.available and impl.selftest == "failed: forced by test hook"
        with pytest.raises(BackendUnavailable, match="failed its self-test"):
            nb.sha256d(b"abc")
        with pytest.raises(BackendUnavailable):
            nb.set_impl(None)
    finally:
        monkeypatch.setattr(nb, "_force_selftest_failure", False)
        nb._reset_for_tests()
    assert nb.implementations()[0].selftest == "ok"


# --------------------------------------------------------------------------- kernels as Python

_PURE = """
import hashlib, numpy as np
from hashcore.backends import _numba_kernels as k
def ref(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()
out = np.empty(32, np.uint8)
for n in (0, 3, 55, 56, 64, 119):
    d = bytes(range(n))
    k.sha256d_kernel(np.frombuffer(d, np.uint8), out)
    assert out.tobytes() == ref(d), n
g = bytes.fromhex(GENESIS_HEX)
hdrs = g + bytes(range(80)) + g[::-1]
o = np.empty((3, 32), np.uint8)
k.hash_headers_kernel(np.frombuffer(hdrs, np.uint8), o, 0, 3)
assert [o[i].tobytes() for i in range(3)] == [ref(hdrs[80*i:80*i+80]) for i in range(3)]
on = np.empty(64, np.int64)
od = np.empty((64, 32), np.uint8)
nonce = int.from_bytes(g[76:], "little")
head = np.frombuffer(g[:76], np.uint8)
tgt = np.frombuffer((0xFFFF << 208).to_bytes(32, "little"), np.uint8)
assert k.scan_kernel(head, tgt, nonce - 9, 20, on, od) == (1, 20) and on[0] == nonce
assert od[0].tobytes() == ref(g)
top = np.frombuffer(((1 << 256) - 1).to_bytes(32, "little"), np.uint8)
assert k.scan_kernel(head, top, 2**32 - 5, 5, on, od) == (5, 5)
assert list(on[:5]) == list(range(2**32 - 5, 2**32))
print("pure ok")
"""


def test_kernels_as_plain_python() -> None:
    code = _PURE.replace("GENESIS_HEX", repr(GENESIS.hex()))
    # numpy warns on wrapping uint32 scalar adds in pure Python; the wrap is intended.
    proc = subprocess.run(
        [sys.executable, "-W", "ignore::RuntimeWarning", "-c", code], cwd=REPO_ROOT,
        env={**os.environ, "NUMBA_DISABLE_JIT": "1"}, capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "pure ok"
