"""Quick side-by-side rates of every C path and the hashlib loop, in one run.

    .venv/bin/python tools/measure_core.py [--seconds 0.4] [--repeats 5] [--json]

For each available C path: scan (1 and 2 threads, through hashcore.scan) and hash_headers
(1 thread), best of --repeats runs (best-of because other processes share this machine),
with ratios to a hashlib loop measured in the same run. This is the quick check behind the
dispatch order (csrc/dispatch.c) and docs/core.md; bench/ holds the full benchmark suites.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import time

import numpy as np

import hashcore
from hashcore.backends import c

GENESIS = bytes.fromhex(
    "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd"
    "7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c")


def best_rate(fn, work: int, repeats: int) -> float:
    """Highest work/second over repeats (fn does `work` items per call)."""
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = max(best, work / (time.perf_counter() - t0))
    return best


def hashlib_loop_rate(seconds: float, repeats: int) -> float:
    header76 = GENESIS[:76]
    sha = hashlib.sha256
    n = max(1000, int(700_000 * seconds))

    def run():
        for nonce in range(n):
            sha(sha(header76 + struct.pack("<I", nonce)).digest()).digest()
    return best_rate(run, n, repeats)


def measure(seconds: float, repeats: int) -> dict:
    header76 = GENESIS[:76]
    headers = np.frombuffer(os.urandom(80 * 16384), dtype=np.uint8)
    result = {"hashlib_loop_hs": hashlib_loop_rate(seconds, repeats), "paths": {},
              "build": c.build_info(), "cpus": hashcore.core.default_threads()}
    for impl in c.implementations():
        if not impl.available:
            continue
        hashcore.use("c", impl.name)
        rough = best_rate(lambda: hashcore.scan(header76, target=1, count=1 << 16, threads=1),
                          1 << 16, 1)
        count = max(1 << 16, int(rough * seconds))
        module = c
        module.SCAN_CHUNK = max(1 << 14, count // 8)  # 8 chunks: both threads stay busy
        row = {}
        for threads in (1, 2):
            row[f"scan_{threads}t_hs"] = best_rate(
                lambda t=threads: hashcore.scan(header76, target=1, count=count, threads=t),
                count, repeats)
        reps = max(1, int(rough * seconds / 2 / 16384))
        row["headers_1t_hs"] = best_rate(
            lambda: [hashcore.hash_headers(headers) for _ in range(reps)], 16384 * reps, repeats)
        result["paths"][impl.name] = row
    hashcore.use("c", None)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.4, help="work per timed run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (best kept)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    res = measure(args.seconds, args.repeats)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    base = res["hashlib_loop_hs"]
    print(f"hashlib loop: {base / 1e6:.2f} M/s (1 thread); {res['cpus']} CPUs; "
          f"best of {args.repeats}; {res['build']['compiler']}")
    print(f"{'path':8} {'scan 1t M/s':>12} {'x hashlib':>10} {'scan 2t M/s':>12} "
          f"{'2t/1t':>6} {'headers M/s':>12}")
    for name, row in res["paths"].items():
        s1, s2, hh = row["scan_1t_hs"], row["scan_2t_hs"], row["headers_1t_hs"]
        print(f"{name:8} {s1 / 1e6:12.2f} {s1 / base:10.1f} {s2 / 1e6:12.2f} {s2 / s1:6.2f} "
              f"{hh / 1e6:12.2f}")


if __name__ == "__main__":
    main()
