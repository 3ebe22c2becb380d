"""The C backend itself: self-test fallback, stale-extension check, forcing, build info, and the
C functions' own argument checks (error codes, never a crash)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

c = pytest.importorskip("hashcore.backends.c", reason="the C extension is not built here")
from hashcore.backends.c import ffi, lib  # noqa: E402
from hashcore.errors import BackendUnavailable  # noqa: E402

GENESIS = bytes.fromhex(
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd"
    "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c")
GENESIS_RAW = bytes.fromhex(
    "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f")[::-1]

PROBE = r"""
import json, warnings
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as caught:
    import hashcore
    impl = hashcore.implementation
import hashcore.backends.c as c
data = bytes(range(80)) * 3
r = hashcore.scan(bytes.fromhex(GENESIS_HEX)[:76], bits=0x1d00ffff,
                  nonce_start=2083236893 - 100, count=200, threads=1)
print(json.dumps({
    "impl": impl,
    "warnings": [str(w.message) for w in caught],
    "paths": {i.name: [i.available, i.selftest] for i in c.implementations()},
    "headers": hashcore.hash_headers(data).tobytes().hex(),
    "nonces": [f.nonce for f in r.nonces],
}))
"""


def _probe(**env: str) -> dict:
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("HASHCORE_BACKEND", "HASHCORE_IMPL", "HASHCORE_SELFTEST_FAIL")}
    full_env.update(env)
    code = PROBE.replace("GENESIS_HEX", repr(GENESIS.hex()))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=full_env, timeout=60, check=True)
    return json.loads(out.stdout)


def _want_headers() -> str:
    data = bytes(range(80)) * 3
    return b"".join(hashlib.sha256(hashlib.sha256(data[i:i + 80]).digest()).digest()
                    for i in range(0, 240, 80)).hex()


def _ok_paths() -> list[str]:
    return [i.name for i in c.implementations() if i.available]


def test_every_compiled_path_passes_here():
    paths = {i.name: i for i in c.implementations()}
    feats = c.cpu_features()
    assert paths["scalar"].selftest == "ok"
    expected = {"shani": "sha", "avx2": "avx2", "avx512": "avx512f/vl/bw"}
    for name, feature in expected.items():
        if feature in feats:
            assert paths[name].available and paths[name].selftest == "ok", paths[name]
        else:
            assert not paths[name].available


def test_forced_selftest_failure_falls_back_with_a_warning():
    best = _ok_paths()
    forced = [p for p in ("avx512", "shani", "avx2") if p in best]
    if not forced:
        pytest.skip("only the scalar path runs on this CPU")
    first = forced[0]
    result = _probe(HASHCORE_SELFTEST_FAIL=first)
    assert result["paths"][first] == [False, "self-test failed: forced by HASHCORE_SELFTEST_FAIL"]
    assert not result["impl"].startswith(f"c:{first}(")
    assert any(first in w and "skipped" in w for w in result["warnings"])
    assert result["headers"] == _want_headers() and result["nonces"] == [2083236893]


def test_all_fast_paths_failing_leaves_scalar():
    result = _probe(HASHCORE_SELFTEST_FAIL="avx512,shani,avx2,arm")
    assert result["impl"] == "c:scalar(1)"
    assert result["headers"] == _want_headers() and result["nonces"] == [2083236893]
    assert sum("skipped" in w for w in result["warnings"]) >= 1


@pytest.mark.parametrize("name", ["scalar", "shani", "avx2", "avx512"])
def test_hashcore_impl_env_forces_a_path(name):
    if name not in _ok_paths():
        pytest.skip(f"{name} cannot run on this CPU")
    result = _probe(HASHCORE_IMPL=name)
    assert result["impl"] == f"c:{name}({lib.hc_impl_lanes(_names().index(name))})"
    assert result["headers"] == _want_headers() and result["nonces"] == [2083236893]


def _names() -> list[str]:
    return [i.name for i in c.implementations()]


def test_set_impl_refuses_unknown_and_unavailable():
    before = c.current_impl()
    with pytest.raises(BackendUnavailable, match="no implementation 'bogus'"):
        c.set_impl("bogus")
    missing = [i.name for i in c.implementations() if not i.available]
    for name in missing:
        with pytest.raises(BackendUnavailable, match=name):
            c.set_impl(name)
    assert c.current_impl() == before


def test_stale_extension_is_refused():
    assert ffi.string(lib.hc_version()).decode() == c.EXPECTED_VERSION
    c.check_version(c.EXPECTED_VERSION)
    with pytest.warns(RuntimeWarning, match="stale"), pytest.raises(
            ImportError, match="stale hashcore C extension"):
        c.check_version("0.0.1+abi0")


def test_stale_extension_warns_and_falls_back_at_import():
    """A package version that no longer matches the built .so: loud warning, no C backend."""
    code = ("import warnings; warnings.simplefilter('always')\n"
            "import hashcore._version as v; v.__version__ = '9.9.9'\n"
            "import hashcore; print(hashcore.implementation)")
    env = {k: v for k, v in os.environ.items() if k not in ("HASHCORE_BACKEND", "HASHCORE_IMPL")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True)
    assert "stale hashcore C extension" in out.stderr and "'9.9.9+abi1'" in out.stderr
    assert not out.stdout.startswith("c:")


def test_build_info():
    info = c.build_info()
    assert info["extension_version"] == c.EXPECTED_VERSION
    assert info["compiler"] and info["compiler"] != "unknown"
    assert "-O3" in info["flags"] and "-march=native" not in info["flags"]
    assert "-mavx" not in info["flags"]
    assert info["sanitize"] in (None, os.environ.get("HASHCORE_SANITIZE") or None)
    assert info["auto_impl"] in _ok_paths()
    json.dumps(info)


def test_single_sha256_helper_nist():
    assert c.sha256(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert c.sha256(b"").hex() == hashlib.sha256(b"").hexdigest()


def test_c_functions_return_errors_never_crash():
    out = ffi.new("uint8_t[64]")
    n = ffi.new("uint64_t *")
    nonces = ffi.new("uint32_t[4]")
    hashes = ffi.new("uint8_t[128]")
    tgt = bytes(32)
    assert lib.hc_sha256d(ffi.NULL, 5, out) == lib.HC_ERR_NULL
    assert lib.hc_sha256d(b"abc", 3, ffi.NULL) == lib.HC_ERR_NULL
    assert lib.hc_sha256d(ffi.NULL, 0, out) == lib.HC_OK  # empty message
    assert bytes(out[0:32]) == hashlib.sha256(hashlib.sha256(b"").digest()).digest()
    assert lib.hc_hash_headers(GENESIS, 79, out, 32) == lib.HC_ERR_LENGTH
    assert lib.hc_hash_headers(GENESIS, 80, out, 31) == lib.HC_ERR_LENGTH
    assert lib.hc_hash_headers(ffi.NULL, 80, out, 32) == lib.HC_ERR_NULL
    assert lib.hc_hash_headers(GENESIS, 80, out, 32) == lib.HC_OK
    assert bytes(out[0:32]) == GENESIS_RAW
    assert lib.hc_scan(GENESIS, 75, tgt, 0, 1, nonces, hashes, 4, n) == lib.HC_ERR_LENGTH
    assert lib.hc_scan(ffi.NULL, 76, tgt, 0, 1, nonces, hashes, 4, n) == lib.HC_ERR_NULL
    assert lib.hc_scan(GENESIS, 76, ffi.NULL, 0, 1, nonces, hashes, 4, n) == lib.HC_ERR_NULL
    assert lib.hc_scan(GENESIS, 76, tgt, 0, 1, ffi.NULL, hashes, 4, n) == lib.HC_ERR_NULL
    assert lib.hc_scan(GENESIS, 76, tgt, 2**32 - 1, 2, nonces, hashes, 4, n) == lib.HC_ERR_RANGE
    assert lib.hc_scan(GENESIS, 76, tgt, 0, 2**33, nonces, hashes, 4, n) == lib.HC_ERR_RANGE
    assert lib.hc_set_impl(99) == lib.HC_ERR_IMPL
    assert lib.hc_impl_status(-7) == lib.HC_ERR_IMPL


def test_hit_buffer_overflow_is_reported_and_rescanned():
    ones = b"\xff" * 32
    n = ffi.new("uint64_t *")
    nonces = ffi.new("uint32_t[4]")
    hashes = ffi.new("uint8_t[128]")
    assert lib.hc_scan(GENESIS, 76, ones, 10, 100, nonces, hashes, 4, n) == lib.HC_OK
    assert n[0] == 100 and list(nonces) == [10, 11, 12, 13]
    hits = c.scan_range(GENESIS[:76], ones, 10, 1000)  # 64 slots at first: must grow
    assert [h[0] for h in hits] == list(range(10, 1010))


def test_c_backend_does_not_import_numba():
    code = ("import sys, hashcore; hashcore.sha256d(b'x'); hashcore.hash_headers(bytes(80)); "
            "hashcore.scan(bytes(76), target=1, count=10); "
            "print(hashcore.implementation, 'numba' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k not in ("HASHCORE_BACKEND", "HASHCORE_IMPL")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=60, check=True).stdout.split()
    assert out[0].startswith("c:") and out[1] == "False"
