#!/usr/bin/env python3
"""Differential tester: every hashing path against hashlib on random inputs.

Each input is drawn from its own seed (``seed/index``), so any mismatch can be replayed alone
with ``--seed S --index I``. Input kinds:

- ``sha256d``: random lengths (0..300 mostly, block boundaries, a few up to 4 KiB), random
  contents, random misalignment (a view starting 0..63 bytes into its allocation and ending
  exactly at its end), random buffer type.
- ``batch``: ``hash_headers`` on batch sizes around every lane count (1, 2, 4, 8, 16, 32 +- 1)
  and random ones, misaligned numpy views, random headers mixed with real ones.
- ``scan``: a random 76-byte header over a small nonce range (sometimes touching 2**32 - 1) with
  a target chosen so that hashlib can enumerate the exact expected set: easy targets, the
  range's smallest hash (exactly one hit, equality included), that hash minus one (none), and
  a target sharing that hash's top 32-bit word (the early-exit word) with random lower bits.
- ``planted``: a real header scanned over a range that contains its real nonce, at its real
  target: the real nonce must be found, and every reported nonce must re-hash under the target.
- ``wide``: the same over 0.3..1.2 M nonces with two threads, so the core cuts the range into
  chunks and threads (rare: about 1 input in 4000; not run on the hashlib backend).

Exit status 0 when every path agrees with hashlib on every input, 1 on any mismatch (a
reproducer is printed for each), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import struct
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hashcore import core  # noqa: E402
from hashcore.compact import target_from_bits  # noqa: E402
from hashcore.errors import HashcoreError  # noqa: E402
from hashcore.paths import find_shared_data  # noqa: E402

KINDS = ("sha256d", "batch", "scan", "planted", "wide")
WEIGHTS = (60, 22, 11, 7, 0.025)
WIDE_SKIP = ("hashlib",)  # backends too slow for a million-nonce range per input
LANE_COUNTS = (1, 2, 4, 8, 16, 32)
BOUNDARY_LENGTHS = (0, 1, 55, 56, 63, 64, 65, 76, 80, 119, 120, 127, 128, 191, 192, 255, 256)
NONCE_END = 1 << 32
MAX_REPORTED = 20


def oracle(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def oracle_scan(header76: bytes, target: int, start: int, count: int) -> list[int]:
    sha = hashlib.sha256
    return [n for n in range(start, start + count)
            if int.from_bytes(sha(sha(header76 + struct.pack("<I", n)).digest()).digest(),
                              "little") <= target]


# --------------------------------------------------------------------------- real headers

def load_real_headers(limit_per_file: int = 400) -> list[bytes]:
    """Real headers (a spread from every shared file) or [] where the data is absent."""
    shared = find_shared_data()
    if shared is None:
        return []
    out: list[bytes] = []
    for path in sorted((shared / "headers").glob("*/*.bin")):
        raw = path.read_bytes()
        n = len(raw) // 80
        step = max(1, n // limit_per_file)
        out.extend(raw[80 * i: 80 * i + 80] for i in range(0, n, step))
    # Keep only headers whose bits are a valid target and whose hash meets it.
    good = []
    for h in out:
        try:
            target = target_from_bits(struct.unpack_from("<I", h, 72)[0])
        except HashcoreError:
            continue
        if int.from_bytes(oracle(h), "little") <= target:
            good.append(h)
    return good


# --------------------------------------------------------------------------- inputs

@dataclass
class Case:
    kind: str
    index: int
    data: bytes = b""          # sha256d message, batch of headers, or header76
    offset: int = 0            # misalignment of the view handed to the path
    container: str = "bytes"   # bytes | bytearray | memoryview | numpy | numpy2d
    start: int = 0
    count: int = 0
    target: int = 0
    threads: int = 1
    expect: object = None      # digest, list of digests, or list of nonces
    planted: int | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    def describe(self) -> dict:
        d = {"kind": self.kind, "index": self.index, "offset": self.offset,
             "container": self.container, "len": len(self.data)}
        if self.kind in ("scan", "planted", "wide"):
            d.update(header76=self.data.hex(), nonce_start=self.start, count=self.count,
                     target=f"{self.target:064x}", threads=self.threads, note=self.note)
            if self.planted is not None:
                d["planted_nonce"] = self.planted
        else:
            d["data"] = self.data.hex() if len(self.data) <= 512 else self.data[:512].hex() + "..."
        return d


def draw_length(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.70:
        return rng.randint(0, 300)
    if r < 0.90:
        return max(0, rng.choice(BOUNDARY_LENGTHS) + rng.randint(-1, 1))
    return rng.randint(301, 4096)


def draw_batch_size(rng: random.Random) -> int:
    if rng.random() < 0.6:
        return max(1, rng.choice(LANE_COUNTS) * rng.randint(1, 3) + rng.randint(-1, 1))
    return rng.randint(1, 100)


def draw_case(seed: int, index: int, real: list[bytes], kinds: tuple[str, ...]) -> Case:
    rng = random.Random(f"{seed}/{index}")
    weights = [w for k, w in zip(KINDS, WEIGHTS, strict=True) if k in kinds]
    kind = rng.choices([k for k in KINDS if k in kinds], weights)[0]
    if kind in ("planted", "wide") and not real:
        kind = "scan"
    case = Case(kind, index)
    case.offset = rng.randint(0, 63)
    if kind == "sha256d":
        case.data = rng.randbytes(draw_length(rng))
        case.container = rng.choice(("bytes", "bytearray", "memoryview", "numpy"))
        case.expect = oracle(case.data)
    elif kind == "batch":
        n = draw_batch_size(rng)
        parts = [rng.choice(real) if real and rng.random() < 0.3 else rng.randbytes(80)
                 for _ in range(n)]
        case.data = b"".join(parts)
        case.container = rng.choice(("bytes", "memoryview", "numpy", "numpy2d"))
        case.offset = rng.randint(0, 15)
        case.expect = [oracle(p) for p in parts]
    elif kind == "scan":
        case.data = (rng.choice(real)[:76] if real and rng.random() < 0.3
                     else rng.randbytes(76))
        case.container = rng.choice(("bytes", "memoryview", "numpy"))
        count = rng.choice((0, 1, 2, 3)) if rng.random() < 0.05 else rng.randint(1, 300)
        if rng.random() < 0.15:
            start = NONCE_END - max(count, 1)    # the range ends at the last nonce
        else:
            start = rng.randrange(0, NONCE_END - max(count, 1) + 1)
        case.start, case.count = start, count
        mode = rng.random()
        if mode < 0.45 and count:
            # Easy target: about count / 2**k hits.
            k = rng.randint(0, 8)
            case.target = ((1 << 256) >> k) - 1 - rng.randrange(0, 1 << 200)
            case.note = f"easy 2**-{k}"
        elif mode < 0.85 and count:
            hashes = [int.from_bytes(oracle(case.data + struct.pack("<I", n)), "little")
                      for n in range(start, start + count)]
            low = min(hashes)
            pick = rng.random()
            if pick < 0.35 or low == 0:
                case.target, case.note = low, "exactly the smallest hash"
            elif pick < 0.7:
                case.target, case.note = low - 1, "one below the smallest hash"
            else:
                case.target = (low >> 224 << 224) | rng.getrandbits(224)
                case.note = "the smallest hash's top word, random lower bits"
        else:
            case.target = rng.choice((1, rng.randrange(1, 1 << 224), (1 << 256) - 1))
            case.note = "extreme"
        case.target = max(1, case.target)
        case.expect = oracle_scan(case.data, case.target, start, count)
    else:  # planted, wide
        header = rng.choice(real)
        nonce = struct.unpack_from("<I", header, 76)[0]
        width = rng.randint(1, 2048) if kind == "planted" else rng.randint(300_000, 1_200_000)
        before = rng.randint(0, width - 1)
        start = max(0, nonce - before)
        count = min(width, NONCE_END - start)
        if not start <= nonce < start + count:
            start, count = nonce, 1
        case.data = header[:76]
        case.container = rng.choice(("bytes", "memoryview", "numpy"))
        case.start, case.count, case.planted = start, count, nonce
        case.target = target_from_bits(struct.unpack_from("<I", header, 72)[0])
        case.threads = rng.choice((1, 1, 1, 2)) if kind == "planted" else 2
        case.note = f"real header, nonce {nonce}"
    return case


def make_view(case: Case):
    """The input as the container and alignment the case asks for.

    Views start ``offset`` bytes into their allocation and end exactly at its end, so that
    under AddressSanitizer a read one byte past the input is reported.
    """
    data, off = case.data, case.offset
    if case.container == "bytes":
        return data
    if case.container == "bytearray":
        return bytearray(data)
    if case.container == "memoryview":
        buf = bytearray(off + len(data))
        buf[off:] = data
        return memoryview(buf)[off:]
    store = np.empty(off + len(data), dtype=np.uint8)
    store[:off] = 0xA5
    store[off:] = np.frombuffer(data, dtype=np.uint8)
    view = store[off:]
    if case.container == "numpy2d":
        return view.reshape(-1, 80)
    return view


# --------------------------------------------------------------------------- paths

def discover_paths(include_numba: bool = True) -> list[str]:
    """Every available path as ``backend:impl``."""
    paths = []
    for impl in core.available_implementations(include_numba=include_numba):
        if impl.available:
            paths.append(f"{impl.backend}:{impl.name}")
    return paths


def select(path: str) -> str:
    backend, _, impl = path.partition(":")
    return core.use(backend, impl or None)


class restore_backend:
    """Put the caller's backend and path back afterwards (the tester switches them)."""

    def __enter__(self) -> None:
        module = core.backend()
        self.name, self.impl = module.NAME, module.current_impl().split("(")[0]

    def __exit__(self, *exc) -> None:
        core.use(self.name, self.impl)


def check(case: Case, path: str) -> str | None:
    """None when the path agrees with hashlib, else what differs."""
    try:
        if case.kind == "sha256d":
            got = core.sha256d(make_view(case))
            if got != case.expect:
                return f"sha256d {got.hex()} != hashlib {case.expect.hex()}"
        elif case.kind == "batch":
            got = core.hash_headers(make_view(case))
            want = np.frombuffer(b"".join(case.expect), dtype=np.uint8).reshape(-1, 32)
            if got.shape != want.shape:
                return f"hash_headers shape {got.shape} != {want.shape}"
            bad = np.nonzero((got != want).any(axis=1))[0]
            if bad.size:
                i = int(bad[0])
                return (f"hash_headers row {i} of {len(want)}: {bytes(got[i]).hex()} != "
                        f"hashlib {bytes(want[i]).hex()} ({bad.size} rows differ)")
        else:
            r = core.scan(make_view(case), target=case.target, nonce_start=case.start,
                          count=case.count, threads=case.threads)
            if r.hashes != case.count:
                return f"scan did {r.hashes} hashes for a range of {case.count}"
            nonces = [f.nonce for f in r.nonces]
            if nonces != sorted(set(nonces)):
                return f"scan nonces not ascending/unique: {nonces[:10]}"
            for f in r.nonces:
                if not case.start <= f.nonce < case.start + case.count:
                    return f"scan reported nonce {f.nonce} outside the range"
                digest = oracle(case.data + struct.pack("<I", f.nonce))
                if f.hash != digest:
                    return f"nonce {f.nonce}: hash {f.hash.hex()} != hashlib {digest.hex()}"
                if int.from_bytes(digest, "little") > case.target:
                    return f"nonce {f.nonce} reported but its hash is above the target"
            if case.kind == "scan" and nonces != case.expect:
                missed = sorted(set(case.expect) - set(nonces))
                return f"scan missed {missed[:10]} (expected {len(case.expect)} hits)"
            if case.kind in ("planted", "wide") and case.planted not in nonces:
                return f"scan missed the real nonce {case.planted}"
    except Exception as exc:  # any exception on a valid input is a mismatch
        return f"raised {type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    return None


# --------------------------------------------------------------------------- driver

def run(n: int, seed: int, paths: list[str], kinds: tuple[str, ...], index: int | None,
        block: int) -> int:
    real = load_real_headers() if "planted" in kinds or "batch" in kinds else []
    indices = [index] if index is not None else range(n)
    mismatches: list[tuple[str, Case, str]] = []
    per_kind = dict.fromkeys(KINDS, 0)
    skipped = 0
    checks = 0
    t0 = time.perf_counter()
    todo = list(indices)
    for b in range(0, len(todo), block):
        cases = [draw_case(seed, i, real, kinds) for i in todo[b: b + block]]
        for c in cases:
            per_kind[c.kind] += 1
        for path in paths:
            select(path)
            for c in cases:
                if c.kind == "wide" and path.split(":")[0] in WIDE_SKIP:
                    skipped += 1
                    continue
                why = check(c, path)
                checks += 1
                if why is not None:
                    mismatches.append((path, c, why))
                    if len(mismatches) <= MAX_REPORTED:
                        report(path, c, why, seed)
    seconds = time.perf_counter() - t0
    total = len(todo)
    kinds_txt = ", ".join(f"{k} {v}" for k, v in per_kind.items() if v)
    print(f"{total} inputs, {len(paths)} paths, {len(mismatches)} mismatches "
          f"({checks} checks: {kinds_txt}; paths {' '.join(paths)}; seed {seed}; "
          f"{seconds:.1f} s"
          + (f"; {skipped} wide scans not run on hashlib" if skipped else "") + ")")
    if not real and "planted" in kinds:
        print("note: shared real headers not found, planted scans replaced by random scans",
              file=sys.stderr)
    return 1 if mismatches else 0


def report(path: str, case: Case, why: str, seed: int) -> None:
    print(f"MISMATCH path={path}: {why}", file=sys.stderr)
    print("  input: " + json.dumps(case.describe()), file=sys.stderr)
    print(f"  reproduce: python tools/differential.py --seed {seed} --index {case.index} "
          f"--paths {path}", file=sys.stderr)


def sweep(paths: list[str]) -> int:
    """Deterministic edge sweep for sanitizer runs: lengths 0..300 at offsets 0..15, batch
    sizes around every lane count at offsets 0..7, scans ending at 2**32 - 1."""
    bad = 0
    tried = 0
    rng = random.Random(20261129)
    msgs = [rng.randbytes(length) for length in range(301)]
    for path in paths:
        select(path)
        for length, msg in enumerate(msgs):
            for off in range(16):
                c = Case("sha256d", length, data=msg, offset=off,
                         container=("memoryview", "numpy")[off % 2], expect=oracle(msg))
                tried += 1
                why = check(c, path)
                if why:
                    bad += 1
                    print(f"MISMATCH path={path} len={length} off={off}: {why}", file=sys.stderr)
        sizes = sorted({max(1, k * m + d) for k in LANE_COUNTS for m in (1, 2, 3)
                        for d in (-1, 0, 1)})
        for n in sizes:
            parts = [rng.randbytes(80) for _ in range(n)]
            for off in range(8):
                c = Case("batch", n, data=b"".join(parts), offset=off,
                         container=("numpy", "memoryview")[off % 2],
                         expect=[oracle(p) for p in parts])
                tried += 1
                why = check(c, path)
                if why:
                    bad += 1
                    print(f"MISMATCH path={path} batch={n} off={off}: {why}", file=sys.stderr)
        for count in (0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 200):
            h = rng.randbytes(76)
            c = Case("scan", count, data=h, start=NONCE_END - max(count, 1), count=count,
                     target=(1 << 252), container="bytes")
            c.expect = oracle_scan(h, c.target, c.start, count)
            tried += 1
            why = check(c, path)
            if why:
                bad += 1
                print(f"MISMATCH path={path} scan end count={count}: {why}", file=sys.stderr)
    print(f"sweep: {tried} inputs, {len(paths)} paths, {bad} mismatches "
          f"(paths {' '.join(paths)})")
    return 1 if bad else 0


def big(paths: list[str]) -> int:
    """One message of 2**29 + 3 bytes (its bit length no longer fits in 32 bits), misaligned,
    through every path: catches a length counter kept in 32 bits."""
    n = (1 << 29) + 3
    block = np.frombuffer(random.Random(29).randbytes(1 << 20), dtype=np.uint8)
    data = np.resize(block, n + 1)[1:]
    want = oracle(data)
    bad = 0
    for path in paths:
        select(path)
        t0 = time.perf_counter()
        got = core.sha256d(data)
        ok = got == want
        bad += not ok
        print(f"big: {path} {'ok' if ok else 'MISMATCH ' + got.hex()} "
              f"({n} bytes, {time.perf_counter() - t0:.1f} s)")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=1000, help="number of random inputs")
    p.add_argument("--seed", type=int, default=None, help="seed (default: random, printed)")
    p.add_argument("--paths", nargs="*", default=None,
                   help="paths as backend:impl (default: every available one); "
                        "'c:*' means every available C path")
    p.add_argument("--kinds", default=",".join(KINDS), help="comma list of " + ",".join(KINDS))
    p.add_argument("--index", type=int, default=None, help="replay one input of the seed")
    p.add_argument("--no-numba", action="store_true", help="leave the numba backend out")
    p.add_argument("--sweep", action="store_true",
                   help="the deterministic edge sweep instead of random inputs")
    p.add_argument("--big", action="store_true",
                   help="one 512 MiB message through every path instead of random inputs")
    p.add_argument("--block", type=int, default=2000, help="inputs drawn per block")
    args = p.parse_args(argv)
    kinds = tuple(k for k in args.kinds.split(",") if k)
    if not kinds or any(k not in KINDS for k in kinds):
        p.error(f"--kinds must be a comma list of {', '.join(KINDS)}")
    if args.n < 0:
        p.error("-n must be >= 0")
    # Importing numba is slow (and pointless under a sanitizer): only when a numba path may
    # be asked for.
    want_numba = not args.no_numba and (not args.paths or any(
        w.startswith("numba") for w in args.paths))
    available = discover_paths(include_numba=want_numba)
    if args.paths:
        paths = []
        for want in args.paths:
            if want.endswith(":*"):
                paths.extend(a for a in available if a.startswith(want[:-1]))
            elif want in available:
                paths.append(want)
            else:
                p.error(f"path {want} is not available here (available: {' '.join(available)})")
    else:
        paths = available
    if not paths:
        p.error("no path to test")
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    with restore_backend():
        if args.sweep:
            return sweep(paths)
        if args.big:
            return big(paths)
        return run(args.n, seed, paths, kinds, args.index, args.block)


if __name__ == "__main__":
    sys.exit(main())
