"""`hashcore fleet scan | read | demo`: live ASIC miners through pyasic (hashcore[fleet])."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import sys
from pathlib import Path

from hashcore.cli._common import check_output_path
from hashcore.errors import InputError

EXIT_OK, EXIT_FAILED = 0, 1


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "fleet", help="scan for and read live ASIC miners (pyasic), or a simulated fleet",
        description="Read real mining machines with pyasic: measured and nominal hash rate, "
                    "power where the firmware reports it, efficiency, temperatures, boards.")
    sub = p.add_subparsers(dest="fleet_command", metavar="SUBCOMMAND")

    scan = sub.add_parser("scan", help="find miners in a network range")
    scan.add_argument("network", metavar="CIDR", help="range to scan, e.g. 10.0.0.0/24")
    _common(scan)
    scan.set_defaults(func=cmd_scan)

    read = sub.add_parser("read", help="read miners: rate, nominal, power, temperatures, boards")
    read.add_argument("hosts", nargs="+", metavar="HOST", help="miner IP addresses or names")
    read.add_argument("--watch", type=float, default=None, metavar="SECONDS",
                      help="sample every SECONDS and average (default 5 samples)")
    read.add_argument("--samples", type=int, default=None, metavar="N",
                      help="number of samples (default 1, or 5 with --watch)")
    read.add_argument("--csv", default=None, metavar="PATH",
                      help="write the miners read as CSV for `hashcore calibrate --fleet`")
    _common(read)
    read.set_defaults(func=cmd_read)

    demo = sub.add_parser("demo", help="start simulated miners on 127.0.0.x, scan and read them")
    demo.add_argument("--base", default="127.0.0.1", metavar="ADDR",
                      help="first loopback address; four miners from there (default %(default)s)")
    demo.add_argument("--faults", action="store_true",
                      help="also start three faulty miners (closes, garbage, silent) after them")
    demo.add_argument("--csv", default=None, metavar="PATH", help="as for `fleet read`")
    _common(demo)
    demo.set_defaults(func=cmd_demo)
    p.set_defaults(func=lambda args: _usage(p))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                   help="per miner and request (default %(default)s)")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="write JSON to PATH ('-': only JSON on stdout)")
    p.add_argument("--verbose", "-v", action="store_true", help="show pyasic's own log lines")


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 2


# --------------------------------------------------------------------------- helpers

def _write(option: str, path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot write: {exc.strerror or exc}") from None
    print(f"hashcore fleet: wrote {path}", file=sys.stderr)


@contextlib.contextmanager
def _quiet_pyasic(verbose: bool):
    """pyasic logs every timeout to the root logger; failures are in our table instead."""
    if verbose:
        yield
        return

    class _DropPyasic(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "pyasic" not in record.pathname and record.name != "asyncio"

    root = logging.getLogger()
    drop = _DropPyasic()
    root.addFilter(drop)
    handlers = list(root.handlers)
    for h in handlers:
        h.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)
        for h in handlers:
            h.removeFilter(drop)


def _num(value, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def _console(json_to_stdout: bool):
    from rich.console import Console

    return Console(stderr=json_to_stdout)


# --------------------------------------------------------------------------- output

def print_scan(hits, network: str, console) -> None:
    from rich.table import Table

    table = Table(title=f"miners found in {network}: {len(hits)}", title_justify="left")
    for name in ("host", "make", "model", "pyasic model", "firmware"):
        table.add_column(name)
    for h in hits:
        table.add_row(h.host, h.make or "-", h.model or "-", h.pyasic_model or "-",
                      h.firmware or "-")
    console.print(table)


def print_reading(reading, console) -> None:
    from rich.table import Table

    samples = (f"{reading.samples} samples every {reading.watch_s:g} s, averaged"
               if reading.samples > 1 else "1 sample")
    table = Table(title=f"hashcore fleet read ({samples}; pyasic {reading.pyasic_version})",
                  title_justify="left", min_width=60)
    for name, justify in (("host", "left"), ("model", "left"), ("TH/s", "right"),
                          ("nominal", "right"), ("%", "right"), ("power W", "right"),
                          ("J/TH", "right"), ("temp C", "right"), ("boards", "left")):
        table.add_column(name, justify=justify)
    for m in reading.miners:
        if not m.ok:
            table.add_row(m.host, f"[red]{m.error_kind}[/red]", "-", "-", "-", "-", "-", "-", "-")
            continue
        boards = f"{m.boards_ok}/{m.boards_expected or len(m.boards)}"
        bad = [f"#{b.slot} {b.state}" for b in m.boards if b.state != "ok"]
        if bad:
            boards += f" {', '.join(bad)}"
        temp = (f"{m.temp_avg_c:.0f}/{m.temp_max_c:.0f}" if m.temp_avg_c is not None
                and m.temp_max_c is not None else "-")
        table.add_row(m.host, m.model or "?", _num(m.hashrate_ths, "{:.2f}"),
                      _num(m.nominal_hashrate_ths), _num(m.percent_of_nominal, "{:.0f}"),
                      "not reported" if m.power_w is None else f"{m.power_w:.0f}",
                      _num(m.efficiency_j_per_th), temp, boards)
    t = reading.totals()
    table.add_section()
    power = ("not reported" if t["power_w"] is None
             else f"{t['power_w']:.0f} ({t['power_reported_by']})")
    table.add_row(f"total ({t['read']} of {t['miners']})", "", _num(t["hashrate_ths"], "{:.2f}"),
                  _num(t["nominal_hashrate_ths"]), _num(t["percent_of_nominal"], "{:.0f}"),
                  power, _num(t["efficiency_j_per_th"]), "", "")
    console.print(table)
    say = lambda text: console.print(text, highlight=False, markup=False)  # noqa: E731
    say("temp C = board average / hottest chip; boards = healthy / expected; power and J/TH "
        "only where the firmware reports power (total: over the miners that do)")
    for m in reading.miners:
        if m.ok and m.firmware_errors:
            say(f"  {m.host}: firmware reports: {'; '.join(m.firmware_errors)}")
        if m.ok and m.samples_failed:
            say(f"  {m.host}: {m.samples_failed} of {m.samples + m.samples_failed} samples "
                f"failed ({m.sample_errors[-1]})")
    for m in reading.failed:
        say(f"  {m.host}: FAILED ({m.error_kind}): {m.error}")


# --------------------------------------------------------------------------- commands

def _timing(args) -> tuple[float, float, int]:
    timeout = args.timeout
    if not math.isfinite(timeout) or timeout <= 0:
        raise InputError(f"--timeout must be a positive number of seconds, got {timeout}")
    watch = getattr(args, "watch", None)
    samples = getattr(args, "samples", None)
    if watch is not None and (not math.isfinite(watch) or watch < 0):
        raise InputError(f"--watch must be a number of seconds >= 0, got {watch}")
    if samples is not None and samples < 1:
        raise InputError(f"--samples must be at least 1, got {samples}")
    if samples is None:
        samples = 5 if watch is not None else 1
    if samples > 1 and watch is None:
        raise InputError("--samples above 1 needs --watch SECONDS (the time between samples)")
    return timeout, watch or 0.0, samples


def cmd_scan(args) -> int:
    from hashcore.fleet.read import scan

    timeout, _, _ = _timing(args)
    check_output_path("--json", args.json)
    with _quiet_pyasic(args.verbose):
        hits = scan(args.network, timeout_s=timeout)
    doc = {"schema": "hashcore.fleet-scan/1", "network": args.network,
           "miners": [vars(h) for h in hits]}
    if args.json == "-":
        print(json.dumps(doc, indent=2))
    else:
        print_scan(hits, args.network, _console(False))
        if args.json:
            _write("--json", args.json, json.dumps(doc, indent=2) + "\n")
    return EXIT_OK


def _emit(reading, args) -> None:
    if args.json == "-":
        print(reading.to_json())
    else:
        print_reading(reading, _console(False))
        if args.json:
            _write("--json", args.json, reading.to_json() + "\n")
    if args.csv:
        _write("--csv", args.csv, reading.csv_text())


def cmd_read(args) -> int:
    from hashcore.fleet.read import read_fleet

    timeout, watch, samples = _timing(args)
    check_output_path("--json", args.json)
    check_output_path("--csv", args.csv)
    progress = None
    if samples > 1 and args.json != "-":
        def progress(host: str, n: int) -> None:
            print(f"  {host}: sample {n}/{samples}", file=sys.stderr, flush=True)
    with _quiet_pyasic(args.verbose):
        reading = read_fleet(args.hosts, timeout_s=timeout, watch_s=watch, samples=samples,
                             on_sample=progress)
    _emit(reading, args)
    return EXIT_OK if not reading.failed else EXIT_FAILED


def cmd_demo(args) -> int:
    from hashcore.fleet import require_pyasic
    from hashcore.fleet.read import read_fleet, scan
    from hashcore.fleet.simulator import FleetSimulator, MinerSpec, demo_fleet, loopback_lock

    timeout, _, _ = _timing(args)
    check_output_path("--json", args.json)
    check_output_path("--csv", args.csv)
    require_pyasic()
    specs = demo_fleet(args.base)
    if args.faults:
        import ipaddress

        first = ipaddress.ip_address(specs[-1].host) + 1
        specs += [MinerSpec(str(first), "s19", fault="close"),
                  MinerSpec(str(first + 1), "m30s+", power_w=3400, fault="garbage"),
                  MinerSpec(str(first + 2), "s19", fault="silent")]
    import ipaddress

    network = str(ipaddress.ip_network(f"{specs[0].host}/29", strict=False))
    out = sys.stderr if args.json == "-" else sys.stdout
    with loopback_lock(), FleetSimulator(specs) as sim, _quiet_pyasic(args.verbose):
        print("simulated miners: "
              + ", ".join(f"{s.host} {s.kind}{' (' + s.fault + ')' if s.fault else ''}"
                          for s in sim.specs), file=out)
        print(f"$ hashcore fleet scan {network}", file=out)
        hits = scan(network, timeout_s=timeout)
        if args.json != "-":
            print_scan(hits, network, _console(False))
        print(f"$ hashcore fleet read {' '.join(sim.hosts)}", file=out)
        reading = read_fleet(sim.hosts, timeout_s=timeout)
    _emit(reading, args)
    return EXIT_OK
