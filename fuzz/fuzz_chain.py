#!/usr/bin/env python3
"""Fuzz what the readers feed: chain.verify and HeaderTree over arbitrary header bytes.

Byte 0 picks the network and whether the window starts at height 0 or mid-chain; the rest,
cut to whole headers, is verified in order and also given to a HeaderTree in reverse order.
Seeds are real runs with a field or two changed by the fuzzer from there.
"""

from __future__ import annotations

import sys

from _common import expected_errors, main, real_header_runs  # noqa: I001

from hashcore import chain
from hashcore.tree import HeaderTree

NAME = "chain"
NETWORKS = ("mainnet", "testnet3", "testnet4", "signet", "regtest")
NOW = 2_000_000_000


def seeds() -> list[bytes]:
    out = []
    for run in real_header_runs():
        for b in range(0, 10, 5):
            out.append(bytes([b]) + run[: 80 * 12])
    return out


def one_input(data: bytes) -> None:
    if not data:
        return
    sel, body = data[0], data[1:]
    network = NETWORKS[sel % len(NETWORKS)]
    start = 0 if sel < 128 else 1 + (sel * 2016) % 900_000
    body = body[: len(body) - len(body) % 80]
    with expected_errors():
        report = chain.verify(body, network, start_height=start, now=NOW)
        assert report.count == len(body) // 80
        assert report.valid <= report.count
        if report.ok:
            assert report.valid == report.count
    with expected_errors():
        tree = HeaderTree(network, now=NOW)
        rows = [body[i: i + 80] for i in range(0, len(body), 80)]
        tree.add(b"".join(reversed(rows)))
        tree.build()
        assert len(tree.best_chain()) % 80 == 0


if __name__ == "__main__":
    main(one_input)
    sys.exit(0)
