"""`hashcore calibrate`: measured rates (bench, headers, fleet) -> a Calibration JSON."""

from __future__ import annotations

import argparse
import sys

from hashcore import calibrate as cal
from hashcore.errors import InputError

EH = 1e18


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="calibrate this host, the network and a fleet",
                       description="Turn measured rates into a Calibration that `farm` reads.")
    p.add_argument("--bench", metavar="BENCH.json",
                   help="a `hashcore bench --json` result: this host's J/TH")
    net = p.add_argument_group("network hash rate (from real headers)")
    net.add_argument("--headers", metavar="PATH", help="raw 80-byte headers")
    net.add_argument("--heights-json", metavar="J",
                     help="their heights (first_height or heights); default: PATH's .json twin")
    net.add_argument("--network-from-checkpoints", action="store_true",
                     help="use the shared mainnet checkpoint headers (15 years, one per period)")
    net.add_argument("--confidence", type=float, default=0.95,
                     help="confidence of the gamma interval (default 0.95)")
    p.add_argument("--fleet", metavar="FLEET.csv",
                   help="measured TH/s and W per machine: derating per model")
    p.add_argument("--skip-unknown-models", action="store_true",
                   help="leave machines whose model is not in the catalogue out (with a "
                        "warning) instead of stopping")
    p.add_argument("--out", metavar="calibration.json", help="write the Calibration here")
    p.add_argument("--json", action="store_true", help="print the Calibration JSON")
    p.add_argument("--history", type=int, default=8, metavar="N",
                   help="network periods to show in the table (default 8; 0 = all)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.heights_json and not args.headers:
        raise InputError("--heights-json needs --headers")
    if not (args.bench or args.headers or args.network_from_checkpoints or args.fleet):
        raise InputError("nothing to calibrate: give --bench, --headers, "
                         "--network-from-checkpoints and/or --fleet")
    c = cal.calibrate(bench=args.bench, headers=args.headers, heights_json=args.heights_json,
                      checkpoints=args.network_from_checkpoints, fleet=args.fleet,
                      confidence=args.confidence,
                      skip_unknown_models=args.skip_unknown_models)
    if args.out:
        c.save(args.out)
    if args.json:
        print(c.to_json())
    else:
        _print_summary(c, args.history)
        if args.out:
            print(f"calibration written to {args.out}")
    return 0


def _print_summary(c: cal.Calibration, history: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if c.host:
        h = c.host
        console.print(f"[bold]This host[/bold]: {h.rate_hs / 1e6:,.2f} MH/s on {h.path} "
                      f"x{h.threads}, {h.hashes_per_joule / 1e6:,.3f} MH/J = "
                      f"{h.j_per_th:,.0f} J/TH (energy: {h.energy_source}"
                      f"{f', {h.power_w:.1f} W' if h.power_w else ''}); 1 PH/s of such hosts "
                      f"would draw {h.j_per_th * 1000 / 1e6:,.1f} MW")
        t = Table(title="this host vs ASICs (best first)")
        for col in ("ASIC", "J/TH", "host / ASIC energy per hash", "hosts per ASIC",
                    "ASIC kW for 1 PH/s"):
            t.add_column(col, justify="left" if col == "ASIC" else "right")
        for r in cal.compare_host(h):
            t.add_row(r.model, f"{r.asic_j_per_th:.1f}", f"{r.efficiency_ratio:,.0f}x",
                      f"{r.hosts_per_asic:,.0f}", f"{r.asic_power_for_1phs_w / 1e3:,.1f}")
        console.print(t)
    if c.network:
        n = c.network
        pct = f"{n.confidence:.0%}"
        console.print(f"[bold]Network[/bold] at height {n.tip_height} ({n.tip_time_utc}): "
                      f"{n.hashrate_hs / EH:,.1f} EH/s, {pct} interval "
                      f"{n.hashrate_low_hs / EH:,.1f} .. {n.hashrate_high_hs / EH:,.1f} EH/s; "
                      f"difficulty {n.difficulty:,.0f}; {len(n.history)} periods from {n.source}")
        rows = n.history if history == 0 else n.history[-history:]
        t = Table(title=f"network hash rate per period (last {len(rows)} of {len(n.history)})")
        for col in ("blocks", "ends (UTC)", "difficulty", "mean interval s", "hash rate",
                    f"{pct} low", f"{pct} high"):
            t.add_column(col, justify="right")
        for p in rows:
            t.add_row(f"{p.start_height}..{p.end_height}", p.end_time_utc[:10],
                      f"{p.difficulty:,.4g}", f"{p.mean_interval_s:,.1f}",
                      _rate(p.hashrate_hs), _rate(p.hashrate_low_hs), _rate(p.hashrate_high_hs))
        console.print(t)
    if c.fleet:
        t = Table(title="fleet derating (measured / nominal)")
        for col in ("model", "machines", "down", "hash rate", "power", "J/TH", "with power"):
            t.add_column(col, justify="left" if col == "model" else "right")
        for d in c.fleet.values():
            t.add_row(d.model, str(d.machines), str(d.machines_down), f"{d.hashrate_factor:.3f}",
                      "n/a" if d.power_factor is None else f"{d.power_factor:.3f}",
                      "n/a" if d.efficiency_factor is None else f"{d.efficiency_factor:.3f}",
                      str(d.machines_with_power))
        console.print(t)
    sys.stdout.flush()


def _rate(hs: float) -> str:
    for unit, scale in (("EH/s", 1e18), ("PH/s", 1e15), ("TH/s", 1e12), ("GH/s", 1e9),
                        ("MH/s", 1e6)):
        if hs >= scale:
            return f"{hs / scale:,.3g} {unit}"
    return f"{hs:,.3g} H/s"
