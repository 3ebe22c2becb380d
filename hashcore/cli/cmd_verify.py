"""`hashcore verify PATH...`: check block headers from files against a network's rules.

Exit 0: every header valid. Exit 1: a rule failed (the first failure is printed). Exit 2:
unreadable input or bad arguments (one line on stderr, via the dispatcher).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from hashcore.errors import InputError

EXIT_OK, EXIT_FAILED = 0, 1


def register(subparsers: argparse._SubParsersAction) -> None:
    from hashcore.io import FORMATS
    from hashcore.params import NETWORKS

    p = subparsers.add_parser(
        "verify", help="verify block headers (raw, hex, blk*.dat, bitcoin-cli JSON, Electrum)",
        description="Verify block headers against a network's consensus rules: proof of work, "
                    "links, retargets, median time past, future time, version floors, "
                    "checkpoints. Exit 0 valid, 1 a rule failed, 2 unreadable input.")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="header file(s), or a node's blocks/ folder")
    p.add_argument("--network", choices=sorted(NETWORKS), default=None,
                   help="network rules (default: from the genesis header or blk magic, "
                        "else mainnet)")
    p.add_argument("--format", choices=FORMATS, default="auto",
                   help="input format (default: detected per file)")
    p.add_argument("--start-height", type=int, default=None, metavar="N",
                   help="height of the first header (default: 0, or what the input states)")
    p.add_argument("--now", type=int, default=None, metavar="UNIX",
                   help="the current time for the 2-hour future rule (default: the clock)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_verify)


class _Progress:
    """A rich progress bar on stderr, shown only once a run has taken more than a second."""

    def __init__(self, total: int, label: str, enabled: bool) -> None:
        self.total, self.label, self.enabled = total, label, enabled
        self.t0 = time.monotonic()
        self.bar = None
        self.task = None

    def __call__(self, done: int, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        if not self.enabled:
            return
        if self.bar is None:
            if time.monotonic() - self.t0 < 1.0:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), console=Console(stderr=True),
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=self.total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _resolve_network(args, first80: bytes | None, blk_network):
    from hashcore.params import get_params, network_of_genesis

    if args.network:
        return get_params(args.network)
    if blk_network is not None:
        return blk_network
    if first80 is not None and (args.start_height in (None, 0)):
        found = network_of_genesis(first80)
        if found is not None:
            return found
    return get_params("mainnet")


def _tree(inputs, params, start: int, now: int | None):
    from hashcore.tree import HeaderTree

    tree = HeaderTree(params, start_height=start, now=now)
    for i in inputs:
        tree.add(i.data)
    return tree.build()


def cmd_verify(args: argparse.Namespace) -> int:
    from hashcore import chain, io

    if args.start_height is not None and args.start_height < 0:
        raise InputError(f"--start-height must be >= 0, got {args.start_height}")
    show_progress = sys.stderr.isatty() and not args.json
    paths = [Path(p) for p in args.paths]
    for p in paths:
        if not p.exists():
            raise InputError(f"{p}: no such file or folder")

    single_raw = (len(paths) == 1 and not paths[0].is_dir()
                  and (args.format == "raw" or (args.format == "auto"
                                                and io.detect_format(paths[0]) == "raw")))
    t0 = time.perf_counter()
    tree_report = None
    if single_raw:
        # Stream: a file of any size in bounded memory.
        size = os.path.getsize(paths[0])
        with open(paths[0], "rb") as fh:
            first80 = fh.read(80)
        params = _resolve_network(args, first80 if len(first80) == 80 else None, None)
        start = args.start_height or 0
        progress = _Progress(size // 80, f"verifying {paths[0].name}", show_progress)
        try:
            report = chain.verify(io.iter_raw_chunks(paths[0]), params, start_height=start,
                                  now=args.now, progress=progress)
        finally:
            progress.close()
        fmt, count = "raw", report.count
        if report.failure is not None and report.failure.rule == "link":
            # Not one chain in order: forks or shuffled headers go through the tree.
            tree_report = _tree([io.read_headers(paths[0], "raw")], params, start, args.now)
            report = tree_report.best
    else:
        inputs = []
        for p in paths:
            reading = _Progress(0, f"reading {p.name}", show_progress)
            try:
                inputs.append(io.read_headers(
                    p, args.format, progress=reading))
            finally:
                reading.close()
        blk_net = next((i.network for i in inputs if i.network is not None), None)
        params = _resolve_network(args, inputs[0].data[:80], blk_net)
        stated = inputs[0].start_height
        start = args.start_height if args.start_height is not None else (stated or 0)
        fmt = ",".join(sorted({i.format for i in inputs}))
        count = sum(i.count for i in inputs)
        if len(inputs) == 1 and inputs[0].in_order:
            progress = _Progress(count, f"verifying {paths[0].name}", show_progress)
            try:
                report = chain.verify(inputs[0].data, params, start_height=start,
                                      now=args.now, progress=progress)
            finally:
                progress.close()
            if report.failure is not None and report.failure.rule == "link":
                tree_report = _tree(inputs, params, start, args.now)
                report = tree_report.best
        else:
            tree_report = _tree(inputs, params, start, args.now)
            report = tree_report.best
    seconds = time.perf_counter() - t0
    ok = report.ok and (tree_report is None or tree_report.ok)

    if args.json:
        out = {"paths": [str(p) for p in paths], "format": fmt, "read": count,
               "seconds": round(seconds, 6), **report.to_dict(), "ok": ok}
        if tree_report is not None:
            out["tree"] = {"tips": tree_report.tips, "best_chain_count":
                           tree_report.best_chain_count,
                           "stale": [b.to_dict() for b in tree_report.stale],
                           "orphans": tree_report.orphans,
                           "orphan_descendants": tree_report.orphan_descendants,
                           "duplicates": tree_report.duplicates}
        print(json.dumps(out, indent=2))
        return EXIT_OK if ok else EXIT_FAILED

    names = ", ".join(p.name for p in paths)
    print(f"{names}: {fmt}, {report.network} rules")
    print(f"  headers read  {count:,}")
    print(f"  valid         {report.valid:,}"
          + (f" (heights {report.start_height}..{report.tip_height})"
             if report.tip_height is not None else ""))
    if report.tip_hash:
        print(f"  tip           height {report.tip_height}  {report.tip_hash}")
    if report.chainwork:
        print(f"  chain work    0x{report.chainwork:x} ({report.chainwork:.3e} hashes)")
    if tree_report is not None:
        print(f"  tips          {tree_report.tips} ({len(tree_report.stale)} stale branches, "
              f"{len(tree_report.orphans)} orphans, {tree_report.duplicates} duplicates)")
        for b in tree_report.stale:
            state = "valid" if b.valid else f"INVALID: {b.failure.message}"
            print(f"    stale       height {b.tip_height} {b.tip_hash} (forks after "
                  f"{b.fork_height}, {b.length} headers, {state})")
        for o in tree_report.orphans:
            print(f"    orphan      {o} (parent never seen)")
    for nc in report.not_checked:
        print(f"  not checked   {nc}")
    for note in report.notes:
        print(f"  note          {note}")
    rate = report.count / seconds if seconds > 0 else 0.0
    print(f"  time          {seconds:.3f} s ({rate:,.0f} headers/s)")
    if report.failure is not None:
        print(f"  FAILED        {report.failure.message}")
        if report.failure.rule == "genesis":
            print("                (not a genesis header: give --start-height, or --network)")
    elif not ok:
        print("  FAILED        a side branch is invalid (see above)")
    else:
        print("  OK            every header passed")
    return EXIT_OK if ok else EXIT_FAILED
