"""Shared plumbing for the atheris harnesses in this folder.

A harness module defines ``NAME``, ``seeds() -> list[bytes]`` (built at run time from the real
headers in shared/data, never stored in the repository) and ``one_input(data: bytes)``, which
feeds the bytes to one reader and lets only real failures escape: the project's documented
errors (``HashcoreError`` subclasses) are the expected answer to bad input and are swallowed
by ``expected_errors``; anything else, an assertion on an invariant, a hang (libFuzzer
``-timeout``) or memory growth (``-rss_limit_mb``) is a finding.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from hashcore.errors import HashcoreError  # noqa: E402
from hashcore.paths import find_shared_data  # noqa: E402

# Small enough to keep CI seeds quick, large enough to carry links, retargets and forks.
SEED_HEADERS_PER_FILE = 24


# Exploration only (never set in CI): exception type names to tolerate, so that a finding
# already reported does not stop the fuzzer from looking further.
TOLERATE = tuple(n for n in os.environ.get("HASHCORE_FUZZ_TOLERATE", "").split(",") if n)


@contextlib.contextmanager
def expected_errors() -> Iterator[None]:
    """Swallow the project's documented errors; let everything else through."""
    try:
        yield
    except HashcoreError as exc:
        msg = str(exc)
        # A documented error is one line that says something.
        assert msg and "\n" not in msg, f"{type(exc).__name__} message not one line: {msg!r}"
    except Exception as exc:
        if type(exc).__name__ not in TOLERATE:
            raise


def real_header_runs() -> list[bytes]:
    """A few runs of real consecutive headers (and singletons) from shared/data, or []."""
    shared = find_shared_data(ROOT)
    if shared is None:
        return []
    runs = []
    for path in sorted((shared / "headers").glob("*/*.bin")):
        raw = path.read_bytes()
        runs.append(raw[: 80 * SEED_HEADERS_PER_FILE])
        if len(raw) > 80 * 2 * SEED_HEADERS_PER_FILE:
            mid = (len(raw) // 160) * 80
            runs.append(raw[mid: mid + 80 * 3])
    return runs


def real_headers() -> list[bytes]:
    """Single real headers (one per 80 bytes of every run)."""
    out = []
    for run in real_header_runs():
        out.extend(run[i: i + 80] for i in range(0, len(run), 80))
    return out


def u32(data: bytes, at: int) -> int:
    return struct.unpack_from("<I", data, at)[0]


def instrument_hashcore() -> int:
    """Add coverage feedback to every loaded hashcore function (not numpy, not the stdlib)."""
    import gc
    import types

    import atheris

    funcs = [obj for obj in gc.get_objects()
             if isinstance(obj, types.FunctionType)
             and (getattr(obj, "__module__", None) or "").startswith("hashcore")]
    for func in funcs:
        atheris.instrument_func(func)
    return len(funcs)


def main(one_input: Callable[[bytes], None]) -> None:
    """Run the harness under atheris with the command line libFuzzer expects."""
    import atheris

    instrument_hashcore()
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


# --------------------------------------------------------------------------- scratch files

def scratch_dir(name: str) -> Path:
    """A private folder for the files a harness writes: under $HASHCORE_FUZZ_TMP (the runner
    sets it and removes it), else on tmpfs when there is one; removed at a normal exit."""
    import atexit
    import shutil
    import tempfile

    base = os.environ.get("HASHCORE_FUZZ_TMP")
    if not base and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        base = "/dev/shm"
    path = Path(tempfile.mkdtemp(prefix=f"hashcore-fuzz-{name}-", dir=base))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- seed formats
# Built here from the real headers, independently of hashcore.io's writers, so a bug in a
# writer cannot hide the same bug in its reader.

MAINNET_MAGIC = bytes.fromhex("f9beb4d9")     # Bitcoin Core chainparams pchMessageStart
TESTNET3_MAGIC = bytes.fromhex("0b110907")


def blk_records(headers: list[bytes], magic: bytes = MAINNET_MAGIC, tx_len: int = 9) -> bytes:
    """Core's blk*.dat records: magic, LE length, header, then ``tx_len`` filler bytes."""
    out = bytearray()
    for i, h in enumerate(headers):
        body = h + bytes([(i + k) & 0xFF for k in range(tx_len + i % 3)])
        out += magic + struct.pack("<I", len(body)) + body
    return bytes(out)


def xor_with(data: bytes, key: bytes) -> bytes:
    """Core 28+ obfuscation: byte i of the file XOR key[i % 8]."""
    if not any(key):
        return data
    return bytes(b ^ key[i % len(key)] for i, b in enumerate(data))


def rpc_object(h: bytes, height: int | None) -> dict:
    """The fields of ``bitcoin-cli getblockheader <hash> true`` for one header."""
    import hashlib

    version, prev, merkle, time_, bits, nonce = struct.unpack("<i32s32sIII", h)
    digest = hashlib.sha256(hashlib.sha256(h).digest()).digest()
    obj = {"hash": digest[::-1].hex(), "version": version,
           "versionHex": f"{version & 0xFFFFFFFF:08x}", "merkleroot": merkle[::-1].hex(),
           "time": time_, "mediantime": time_,
           "nonce": nonce, "bits": f"{bits:08x}", "difficulty": 1.0}
    if any(prev):
        obj["previousblockhash"] = prev[::-1].hex()
    if height is not None:
        obj["height"] = height
    return obj
