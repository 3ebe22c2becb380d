"""Mine a long, fully valid header chain under easy custom parameters (tests and benchmarks).

Every header is mined with ``hashcore.scan`` against the bits that ``chain.verify`` will
expect (retargets included: block spacing alternates between fast and slow periods, so the
difficulty really moves). With a powLimit near 2**255 about half of all nonces are valid, so
a million headers take about a minute on one core.

    python tools/mine_chain.py OUT.bin --count 1000000 [--interval 2016] [--bip94]
"""

from __future__ import annotations

import argparse
import struct
import sys
import time
from array import array
from pathlib import Path

from hashcore.compact import bits_from_target
from hashcore.core import scan, sha256d
from hashcore.params import MAINNET, TESTNET4, NetworkParams, calculate_next_work_required, custom

EASY_LIMIT = (1 << 255) - 1
T0 = 1_600_000_000
# Spacing per period, as a fraction of the target spacing: fast periods raise the
# difficulty (up to the 4x clamp), slow ones bring it back to the limit.
SCHEDULE = (1.0, 0.5, 0.3, 2.0, 4.0, 1.0)


def _mine(header76: bytes, bits: int) -> tuple[int, bytes]:
    start = 0
    while True:
        found = scan(header76, bits=bits, nonce_start=start, count=256, threads=1).nonces
        if found:
            return found[0].nonce, found[0].hash
        start += 256


def easy_params(interval: int = 2016, bip94: bool = False,
                name: str = "easy") -> NetworkParams:
    """Custom parameters with powLimit ~2**255 and a mined genesis at T0."""
    bits = bits_from_target(EASY_LIMIT)
    header76 = struct.pack("<i32s32sII", 4, bytes(32), b"\x11" * 32, T0, bits)
    nonce, _ = _mine(header76, bits)
    genesis = header76 + struct.pack("<I", nonce)
    base = TESTNET4 if bip94 else MAINNET
    return custom(name, pow_limit=EASY_LIMIT, genesis_header=genesis, base=base,
                  pow_target_timespan_s=interval * 600)


def mine_chain(params: NetworkParams, count: int, *, spacing_s: int = 600,
               schedule: tuple[float, ...] = SCHEDULE, version: int = 4) -> bytes:
    """``count`` headers from genesis (included), valid under ``params``."""
    genesis = params.genesis_header
    out = bytearray(genesis)
    times = array("I", [struct.unpack_from("<I", genesis, 68)[0]])
    bits_by_height = array("I", [struct.unpack_from("<I", genesis, 72)[0]])
    prev = sha256d(genesis)
    interval = params.interval
    for height in range(1, count):
        step = max(1, int(spacing_s * schedule[(height // interval) % len(schedule)]))
        t = times[-1] + step
        if height % interval == 0:
            first = height - interval
            bits = calculate_next_work_required(params, bits_by_height[-1], times[-1],
                                                times[first], bits_by_height[first])
        else:
            bits = bits_by_height[-1]
        header76 = struct.pack("<i32s32sII", version, prev, struct.pack("<Q", height) * 4,
                               t, bits)
        nonce, prev = _mine(header76, bits)
        out += header76 + struct.pack("<I", nonce)
        times.append(t)
        bits_by_height.append(bits)
    return bytes(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--interval", type=int, default=2016)
    ap.add_argument("--bip94", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    params = easy_params(args.interval, args.bip94)
    data = mine_chain(params, args.count)
    args.out.write_bytes(data)
    print(f"mined {args.count} headers in {time.perf_counter() - t0:.1f} s -> {args.out} "
          f"(genesis {params.genesis_hash})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
