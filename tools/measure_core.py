"""Quick side-by-side rates of every C path and the hashlib loop, in one run.

    .venv/bin/python tools/measure_core.py [--seconds 0.3] [--repeats 7] [--json]

For each available C path: scan (1 and 2 threads, through hashcore.scan) and hash_headers
(1 thread), best of --repeats runs (best-of because other processes share this machine),
with ratios to a hashlib loop measured in the same run. Each figure is given twice: per
wall-clock second, and per CPU second of the process (time.process_time), which is what one
core delivers even when other processes take turns on it. The load average is printed
beside them. This is the quick check behind the dispatch order (csrc/dispatch.c) and
docs/core.md; bench/ holds the full benchmark suites.
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


def best_rate(fn, work: int, repeats: int) -> tuple[float, float, float]:
    """Highest work per wall second and per process CPU second over repeats, and the cores
    the process got in the fastest wall-clock run (CPU seconds / wall seconds)."""
    wall = cpu = busy = 0.0
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        t1, c1 = time.perf_counter(), time.process_time()
        if work / (t1 - t0) > wall:
            wall, busy = work / (t1 - t0), (c1 - c0) / (t1 - t0)
        cpu = max(cpu, work / max(c1 - c0, 1e-9))
    return wall, cpu, busy


def hashlib_loop_rate(seconds: float, repeats: int) -> tuple[float, float, float]:
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
    wall, cpu, _ = hashlib_loop_rate(seconds, repeats)
    result = {"hashlib_loop_wall_hs": wall, "hashlib_loop_cpu_hs": cpu, "paths": {},
              "build": c.build_info(), "cpus": hashcore.core.default_threads(),
              "loadavg_before": os.getloadavg()}
    for impl in c.implementations():
        if not impl.available:
            continue
        hashcore.use("c", impl.name)
        rough = best_rate(lambda: hashcore.scan(header76, target=1, count=1 << 16, threads=1),
                          1 << 16, 1)[1]
        count = max(1 << 16, int(rough * seconds))
        module = c
        module.SCAN_CHUNK = max(1 << 14, count // 8)  # 8 chunks: both threads stay busy
        row = {}
        for threads in (1, 2):
            wall, cpu, busy = best_rate(
                lambda t=threads, n=count: hashcore.scan(header76, target=1, count=n, threads=t),
                count, repeats)
            row[f"scan_{threads}t_wall_hs"] = wall
            row[f"scan_{threads}t_cpu_hs"] = cpu
            row[f"scan_{threads}t_cores_used"] = busy
        reps = max(1, int(rough * seconds / 2 / 16384))
        def batches(r: int = reps) -> None:
            for _ in range(r):  # each output dropped at once, as a streaming caller would
                hashcore.hash_headers(headers)
        wall, cpu, _ = best_rate(batches, 16384 * reps, repeats)
        row["headers_1t_wall_hs"], row["headers_1t_cpu_hs"] = wall, cpu
        result["paths"][impl.name] = row
    hashcore.use("c", None)
    result["loadavg_after"] = os.getloadavg()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.3, help="work per timed run")
    parser.add_argument("--repeats", type=int, default=7, help="runs per figure (best kept)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    res = measure(args.seconds, args.repeats)
    if args.json:
        print(json.dumps(res, indent=2))
        return
    print(f"{res['cpus']} CPUs; best of {args.repeats}; {res['build']['compiler']}; "
          f"load average {res['loadavg_before'][0]:.1f} before, "
          f"{res['loadavg_after'][0]:.1f} after")
    for kind in ("cpu", "wall"):
        base = res[f"hashlib_loop_{kind}_hs"]
        print(f"\nper {kind} second: hashlib loop {base / 1e6:.2f} M/s (1 thread)")
        print(f"{'path':8} {'scan 1t M/s':>12} {'x hashlib':>10} {'scan 2t M/s':>12} "
              f"{'2t/1t':>6} {'cores got':>9} {'headers 1t M/s':>15}")
        for name, row in res["paths"].items():
            s1, s2 = row[f"scan_1t_{kind}_hs"], row[f"scan_2t_{kind}_hs"]
            hh = row[f"headers_1t_{kind}_hs"]
            got = f"{row['scan_2t_cores_used']:9.2f}" if kind == "wall" else " " * 9
            print(f"{name:8} {s1 / 1e6:12.2f} {s1 / base:10.1f} {s2 / 1e6:12.2f} "
                  f"{s2 / s1:6.2f} {got} {hh / 1e6:15.2f}")
    print("\nper cpu second with 2 threads: nonces per CPU second of both threads together, so "
          "2t/1t near 1.0 means no per-core loss from threading;\n'cores got': CPU seconds / "
          "wall seconds of the fastest 2-thread run (2.0 = both cores free of other load)")


if __name__ == "__main__":
    main()
