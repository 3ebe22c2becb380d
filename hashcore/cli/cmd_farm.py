"""`hashcore farm`: run a scenario (default: Pakistan 2,000 MW) and print what it earns."""

from __future__ import annotations

import argparse
import json

from hashcore.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("farm", help="model a mining farm from a scenario TOML",
                       description="Run a farm scenario month by month: fleet, share, BTC, "
                                   "revenue, costs, NPV/IRR/payback; optional Monte Carlo "
                                   "and tornado.")
    p.add_argument("--scenario", metavar="FILE", help="scenario TOML (default: embedded "
                                                      "Pakistan 2,000 MW)")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="FIELD=VALUE",
                   help="override a field, e.g. --set power.mw=500 (repeatable)")
    p.add_argument("--calibration", metavar="FILE",
                   help="a `hashcore calibrate --out` JSON: network hash rate and deratings")
    p.add_argument("--monte-carlo", type=int, metavar="N", dest="monte_carlo",
                   help="draw N market paths and report P5/P50/P95")
    p.add_argument("--seed", type=int, help="Monte Carlo seed (default: the scenario's)")
    p.add_argument("--tornado", action="store_true", help="sensitivity of NPV to each input")
    p.add_argument("--monthly", action="store_true", help="print the month-by-month table")
    p.add_argument("--show-scenario", action="store_true",
                   help="print every field with its source, then stop")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hashcore import farm, montecarlo, report, scenario

    s = scenario.load(args.scenario, args.overrides)
    if args.show_scenario:
        for path, value, note in report.assumption_lines(s):
            print(f"{path} = {value}" + (f"\n    {note}" if note else ""))
        return 0
    calibration = None
    if args.calibration:
        from hashcore.calibrate import Calibration

        calibration = Calibration.load(args.calibration)
    if args.monte_carlo is not None and args.monte_carlo < 1:
        raise InputError(f"--monte-carlo must be >= 1, got {args.monte_carlo}")
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed must be >= 0, got {args.seed}")
    p = farm.plan(s, calibration)
    det = farm.run(p)
    mc = (montecarlo.simulate(p, paths=args.monte_carlo, seed=args.seed)
          if args.monte_carlo else None)
    tor = montecarlo.tornado(s, calibration) if args.tornado else None
    if args.json:
        out = {"scenario": s.name, "fleet": [f.__dict__ for f in p.fleet],
               "network_start": p.network_note, "months": p.month_start,
               "monthly": det.monthly, "totals": det.totals}
        if mc:
            out["montecarlo"] = {"paths": mc.paths, "seed": mc.seed, "totals": mc.totals,
                                 "monthly": mc.monthly,
                                 "probability_npv_positive": mc.probability_npv_positive}
        if tor:
            out["tornado"] = {"base_npv_usd": tor[0], "rows": [
                {**r.__dict__, "swing_usd": r.swing_usd} for r in tor[1]]}
        print(json.dumps(report._jsonable(out), indent=1))
        return 0
    _print(s, p, det, mc, tor, args.monthly)
    return 0


def _print(s, p, det, mc, tor, monthly: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from hashcore import report

    c = Console()
    t = det.totals
    c.print(f"[bold]{s.name}[/bold]  ({s.origin})")
    for f in p.fleet:
        c.print(f"fleet: {f.count:,} x {f.model} ({f.hashrate_ths:g} TH/s, {f.power_w:,.0f} W, "
                f"{f.j_per_th:.1f} J/TH), USD {f.capex_usd_per_machine:,.0f} each")
    c.print(f"network at start: {p.network_note}")
    c.print(f"electricity: USD {p.price_usd_per_kwh:.4f}/kWh")
    if monthly:
        m = det.monthly
        tab = Table(title="month by month (median market)")
        for col in ("month", "MW", "farm EH/s", "share", "BTC", "USD/PH/day", "revenue M",
                    "energy M", "profit M"):
            tab.add_column(col, justify="right")
        for i, d in enumerate(p.month_start):
            tab.add_row(d.isoformat(), f"{m['power_available_mw'][i]:,.0f}",
                        f"{m['fleet_hashrate_ehs'][i]:,.1f}", f"{m['share'][i]:.2%}",
                        f"{m['btc_mined'][i]:,.0f}", f"{m['hashprice_usd_per_ph_day'][i]:.2f}",
                        f"{m['revenue_usd'][i] / 1e6:,.1f}",
                        f"{m['energy_cost_usd'][i] / 1e6:,.1f}",
                        f"{m['profit_usd'][i] / 1e6:,.1f}")
        c.print(tab)

    def usd(x, scale=1e6, unit=" M"):
        return "n/a" if x is None else f"USD {x / scale:,.1f}{unit}"

    tab = Table(title="totals (median market)")
    tab.add_column("")
    tab.add_column("value", justify="right")
    for label, value in (
            ("machines", f"{t['machines']:,.0f}"), ("installed MW", f"{t['installed_mw']:,.2f}"),
            ("capex", usd(t["capex_usd"])), ("BTC mined", f"{t['btc_mined']:,.1f}"),
            ("revenue", usd(t["revenue_usd"])), ("energy", usd(t["energy_cost_usd"])),
            ("opex", usd(t["opex_usd"])), ("profit before capex", usd(t["profit_usd"])),
            (f"NPV at {t['discount_rate_per_year']:.0%}", usd(t["npv_usd"])),
            ("IRR", "none" if t["irr_per_year"] is None else f"{t['irr_per_year']:.1%}"),
            ("payback", "not within horizon" if t["payback_months"] is None
             else f"{t['payback_months']:.1f} months"),
            ("cash cost per BTC", usd(t["cash_cost_per_btc_usd"], 1, "")),
            ("all-in cost per BTC", usd(t["all_in_cost_per_btc_usd"], 1, "")),
            ("break-even BTC price", usd(t["breakeven_btc_price_usd"], 1, "")),
            ("break-even electricity USD/kWh",
             "n/a" if t["breakeven_electricity_usd_per_kwh"] is None
             else f"{t['breakeven_electricity_usd_per_kwh']:.4f}"),
            ("cash break-even electricity USD/kWh",
             "n/a" if t["cash_breakeven_electricity_usd_per_kwh"] is None
             else f"{t['cash_breakeven_electricity_usd_per_kwh']:.4f}"),
            ("mean hashprice USD/PH/day", f"{t['hashprice_mean_usd_per_ph_day']:.2f}")):
        tab.add_row(label, value)
    c.print(tab)
    if mc:
        tab = Table(title=f"Monte Carlo: {mc.paths:,} paths, seed {mc.seed}")
        for col in ("total", "P5", "P50", "P95"):
            tab.add_column(col, justify="right")
        for key, scale, spec in (("btc_mined", 1, ",.0f"), ("revenue_usd", 1e6, ",.0f"),
                                 ("profit_usd", 1e6, ",.0f"), ("npv_usd", 1e6, ",.0f"),
                                 ("irr_per_year", 1, ".1%"), ("payback_months", 1, ".1f")):
            q = mc.totals.get(key)
            if q:
                tab.add_row(key.replace("_usd", " (USD M)"), *[
                    "-" if q[k] is None else format(q[k] / scale, spec)
                    for k in ("p5", "p50", "p95")])
        c.print(tab)
        c.print(f"P(NPV > 0) = {mc.probability_npv_positive:.1%}, P(payback within horizon) "
                f"= {mc.probability_payback:.1%}")
    if tor:
        base, rows = tor
        tab = Table(title=f"tornado: NPV (base USD {base / 1e6:,.0f} M)")
        for col in ("input", "low", "high", "NPV low (M)", "NPV high (M)"):
            tab.add_column(col, justify="right")
        for r in rows:
            tab.add_row(r.label, report.num(r.low_value), report.num(r.high_value),
                        f"{r.npv_low_usd / 1e6:,.0f}", f"{r.npv_high_usd / 1e6:,.0f}")
        c.print(tab)
