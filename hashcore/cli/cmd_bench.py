"""`hashcore bench`: measured hashing throughput and energy on this host (or a cluster)."""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from pathlib import Path

from hashcore.cli import EXIT_FAILED
from hashcore.cli._common import check_output_path
from hashcore.errors import HashcoreError, InputError

EXIT_REGRESSED = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    from hashcore.bench import DEFAULT_REPEAT, DEFAULT_SECONDS, HEADERS_BATCH, OPERATIONS
    from hashcore.energy import DEFAULT_POWERCAP

    p = subparsers.add_parser(
        "bench", help="measure hashes/s and hashes/J per operation, path and thread count",
        description="Benchmark the hashing paths: warm-up excluded, calibrated rounds, "
                    "min/median/max/stddev/IQR per row, energy per row.")
    p.add_argument("--operations", default=",".join(OPERATIONS), metavar="LIST",
                   help=f"comma-separated, from {', '.join(OPERATIONS)} (default: all)")
    p.add_argument("--paths", default=None, metavar="LIST",
                   help="comma-separated paths, e.g. c:avx512,numba,hashlib (default: every "
                        "path hashcore knows; see --list-paths)")
    p.add_argument("--threads", default=None, metavar="LIST",
                   help="comma-separated thread counts (default: 1..usable cores)")
    p.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, metavar="S",
                   help=f"budget for calibration and timed rounds of the whole run "
                        f"(default {DEFAULT_SECONDS:g}; warm-up is extra)")
    p.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, metavar="N",
                   help=f"timed rounds per row (default {DEFAULT_REPEAT})")
    p.add_argument("--batch", type=int, default=HEADERS_BATCH, metavar="N",
                   help=f"headers per hash_headers call (default {HEADERS_BATCH})")
    p.add_argument("--watts", type=float, default=None, metavar="W",
                   help="wall-meter wattage to use as given (joules = W x seconds)")
    p.add_argument("--powercap", default=str(DEFAULT_POWERCAP), metavar="DIR",
                   help="where the RAPL counters live (default %(default)s)")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="write pytest-benchmark JSON to PATH ('-': only JSON on stdout)")
    p.add_argument("--compare", default=None, metavar="OLD.json",
                   help="print the change per row against an earlier --json file")
    p.add_argument("--fail-over", type=float, default=None, metavar="PCT",
                   help="with --compare: exit 1 if any row is slower by more than PCT%%")
    p.add_argument("--plot", default=None, metavar="PNG",
                   help="draw throughput against threads per path (needs matplotlib)")
    p.add_argument("--cluster", default=None, metavar="ADDRESS",
                   help="run on every worker of a Dask cluster (hashcore.cluster)")
    p.add_argument("--list-paths", action="store_true",
                   help="list the paths and whether each can run here, then exit")
    p.set_defaults(func=cmd_bench)


def _write_json(path: str, data: dict) -> None:
    text = json.dumps(data, indent=2, allow_nan=False)
    try:
        Path(path).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--json {path}: cannot write: {exc.strerror or exc}") from None


def _collect(args: argparse.Namespace) -> tuple[dict, dict | None]:
    """Check every argument before anything runs; returns run options and the old JSON."""
    from hashcore.bench import (
        check_options,
        list_paths,
        load_json,
        parse_int_list,
        plot_available,
        resolve_paths,
    )

    if args.seconds is not None and not math.isfinite(args.seconds):
        raise InputError(f"--seconds must be a finite number, got {args.seconds}")
    operations = [o for o in args.operations.split(",") if o.strip()]
    threads = parse_int_list(args.threads) if args.threads is not None else None
    paths = [p for p in args.paths.split(",") if p.strip()] if args.paths else None
    if args.paths is not None and not paths:
        raise InputError("--paths is empty")
    operations, checked = check_options(operations, threads, args.seconds, args.repeat,
                                        args.watts, args.batch)
    threads = checked if threads is not None else None  # None: each host's own default
    if args.json and args.json != "-":
        check_output_path("--json", args.json)
    if args.plot:
        if not plot_available():
            raise HashcoreError("--plot needs matplotlib: pip install 'hashcore[plot]'")
        check_output_path("--plot", args.plot)
    if args.fail_over is not None:
        if args.compare is None:
            raise InputError("--fail-over needs --compare OLD.json")
        if not math.isfinite(args.fail_over) or args.fail_over < 0:
            raise InputError(f"--fail-over must be a percentage >= 0, got {args.fail_over}")
    old = load_json(args.compare) if args.compare else None
    if paths is not None and not args.cluster:  # a cluster's workers judge their own paths
        resolve_paths(paths, list_paths())
    options = dict(operations=operations, paths=paths, threads=threads, seconds=args.seconds,
                   repeat=args.repeat, watts=args.watts, batch=args.batch)
    return options, old


def _run_cluster(args: argparse.Namespace, options: dict) -> int:
    """Hand the run to hashcore.cluster (issue 6): every host of a Dask cluster benchmarks."""
    if args.compare or args.plot:
        raise InputError("--compare and --plot work on one machine's run; with --cluster, "
                         "write --json and compare the hosts' entries")
    try:
        cluster = importlib.import_module("hashcore.cluster")
    except ImportError as exc:
        raise HashcoreError(f"--cluster needs hashcore.cluster, which this install lacks "
                            f"({exc}); install hashcore[cluster]") from None
    result = cluster.cluster_bench(args.cluster, **options)
    if args.json != "-":
        cluster.print_cluster(result)
    _emit_json(args.json, result.to_dict())
    return EXIT_FAILED if result.failed else 0


def _emit_json(where: str | None, doc: dict) -> None:
    if where == "-":
        sys.stdout.write(json.dumps(doc, indent=2, allow_nan=False) + "\n")
    elif where:
        _write_json(where, doc)
        print(f"hashcore bench: wrote {where}", file=sys.stderr)


def _run_local(options: dict, powercap: str, quiet: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from hashcore.bench import run_bench

    console = Console(stderr=True)
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True,
                  disable=quiet or not console.is_terminal) as bar:
        task = bar.add_task("bench: finding paths", total=None)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=f"bench: {what}")

        return run_bench(progress=progress, powercap_root=powercap, **options)


# --------------------------------------------------------------------------- rendering

def _si(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "-"
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g} {prefix}"
    return f"{value:.{digits}g}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _machine_lines(run) -> list[str]:
    m = run.machine.get("hashcore", {})
    c = run.commit
    commit = c.get("id", "unversioned")
    if commit not in ("unversioned", "unknown"):
        commit = commit[:12] + (" (uncommitted changes)" if c.get("dirty") else "")
    build = m.get("c_build") or {}
    if build.get("compiler"):
        compiler = " ".join(str(build[k]) for k in ("compiler", "flags") if build.get(k))
    else:
        compiler = ", ".join(f"{k}={v}" for k, v in build.items()) or "extension not built"
    flags = " ".join(m.get("hash_flags") or []) or "none"
    return [
        f"{m.get('cpu_model', '?')}: {m.get('cores_total', '?')} cores "
        f"({m.get('cores_usable', '?')} usable), hashing flags: {flags}",
        f"Python {m.get('python')}, numpy {m.get('numpy')}, numba {m.get('numba')}, "
        f"cffi {m.get('cffi')}; C: {compiler}",
        f"hashcore {m.get('version')}, commit {commit}, {run.datetime}, node "
        f"{run.machine.get('node', '?')}",
    ]


def _energy_line(energy: dict) -> str:
    source = energy.get("source")
    if source == "rapl":
        return (f"energy: RAPL counters ({', '.join(energy.get('zones', []))}); "
                f"{energy.get('note', '')}")
    if source == "stated":
        return f"energy: stated {energy['watts']:g} W from --watts (joules = W x seconds)"
    text = (f"energy: ESTIMATE = {energy.get('tdp_w', 0):g} W ({energy.get('tdp_origin')}) "
            f"x measured load; not a measurement")
    if energy.get("note"):
        text += f"\n  why: {energy['note']}"
    return text


def _console(stderr: bool = False):
    """A rich console; when not a terminal (a file, a pipe), wide enough for the table."""
    from rich.console import Console

    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=max(console.width, 150))
    return console


def print_run(run, console=None) -> None:
    """The run as one table per operation: a line per (path, threads)."""
    from rich import box
    from rich.table import Table

    from hashcore.bench import UNITS

    console = console or _console()
    for line in _machine_lines(run):
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    console.print(_energy_line(run.energy), highlight=False, markup=False, soft_wrap=True)
    console.print(f"budget {run.options.get('seconds'):g} s, {run.options.get('repeat')} "
                  f"timed rounds per row, {run.options.get('batch')} headers per call, "
                  f"{run.elapsed_s:.1f} s wall", highlight=False, markup=False)
    notes: list[str] = []
    for op in dict.fromkeys(r.operation for r in run.rows):
        table = Table(title=f"{op}: {UNITS[op]} per second", title_justify="left",
                      box=box.SIMPLE_HEAD, pad_edge=False)
        for name in ("path", "threads", "median", "min", "max", "IQR %", "stddev %", "x 1 thread",
                     "x hashlib", "joules", "hashes/J", "J/TH", "energy"):
            table.add_column(name, justify="left" if name in ("path", "energy") else "right")
        for row in (r for r in run.rows if r.operation == op):
            path = row.path + (" (ref)" if row.baseline else "")
            if not row.timed:
                notes.append(f"{op} {row.path} x{row.threads}: {row.status}")
                table.add_row(path, str(row.threads),
                              f"[dim]{row.status.split(':', 1)[0]}[/dim]", *["-"] * 10)
                continue
            r = row.rate_stats
            threads = str(row.threads)
            if row.threads_used and row.threads_used < row.threads:
                threads += f" ({row.threads_used} ran)"
            energy = row.energy_source + (" (suspect)" if row.energy_suspect else "")
            if row.energy_suspect:
                notes.append(f"{op} {row.path} x{row.threads}: {row.energy_suspect}")
            table.add_row(
                path, threads, _si(r.median), _si(r.min), _si(r.max),
                f"{r.iqr / r.median * 100:.1f}%" if r.median else "-",
                f"{r.stddev / r.mean * 100:.1f}%" if r.mean else "-",
                _x(row.speedup_vs_1_thread), _x(row.speedup_vs_hashlib), _si(row.joules),
                _si(row.hashes_per_joule), _si(row.joules_per_th), energy)
        console.print(table)
    for note in _merge_notes(notes):
        console.print(f"  {note}", highlight=False, markup=False, soft_wrap=True)


def _merge_notes(notes: list[str]) -> list[str]:
    """One line per distinct reason: "scan c x1, scan c x2: unavailable: ..."."""
    by_reason: dict[str, list[str]] = {}
    for note in notes:
        where, _, reason = note.partition(": ")
        by_reason.setdefault(reason, []).append(where)
    return [f"{', '.join(wheres)}: {reason}" for reason, wheres in by_reason.items()]


def print_paths(paths) -> None:
    from rich.table import Table

    table = Table(title="hashing paths")
    for name in ("path", "available", "self-test"):
        table.add_column(name)
    for p in paths:
        table.add_row(p.name, "yes" if p.available else "no", p.why)
    _console().print(table)


def print_compare(changes, old_name: str, fail_over: float | None, stderr: bool) -> None:
    from rich.table import Table

    console = _console(stderr)
    table = Table(title=f"change against {old_name} (median throughput)", title_justify="left")
    for name, justify in (("operation", "left"), ("path", "left"), ("threads", "right"),
                          ("old /s", "right"), ("new /s", "right"), ("change", "right")):
        table.add_column(name, justify=justify)
    for c in changes:
        pct = c.change_pct
        text = "-" if pct is None else f"{pct:+.1f}%"
        if pct is not None and fail_over is not None and pct < -fail_over:
            text = f"[red]{text} (over {fail_over:g}%)[/red]"
        table.add_row(c.operation, c.path, str(c.threads), _si(c.old_rate), _si(c.new_rate),
                      text)
    console.print(table)


def cmd_bench(args: argparse.Namespace) -> int:
    from hashcore.bench import compare, plot_run, regressions

    if args.list_paths:
        from hashcore.bench import list_paths

        print_paths(list_paths())
        return 0
    options, old = _collect(args)
    if args.cluster:
        return _run_cluster(args, options)
    run = _run_local(options, args.powercap, quiet=False)
    doc = run.to_pytest_benchmark_json()
    if args.json != "-":
        print_run(run)
    _emit_json(args.json, doc)
    if args.plot:
        plot_run(run, args.plot)
        print(f"hashcore bench: wrote {args.plot}", file=sys.stderr)
    if old is not None:
        changes = compare(old, doc)
        print_compare(changes, args.compare, args.fail_over, stderr=args.json == "-")
        if args.fail_over is not None and regressions(changes, args.fail_over):
            return EXIT_REGRESSED
    return 0
