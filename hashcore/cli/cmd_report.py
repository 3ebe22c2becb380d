"""`hashcore report`: the main job, everything on embedded defaults, as one report folder."""

from __future__ import annotations

import argparse

from hashcore.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="verify, bench, calibrate and model the default scenario: one report",
        description="Verify the shipped genesis headers (and the shared real headers where "
                    "present), bench this host, calibrate, run the default Pakistan 2,000 MW "
                    "scenario with its sources, and write report.html, report.json and plots.")
    p.add_argument("--out", default="hashcore-report", metavar="DIR",
                   help="folder to write (default: hashcore-report)")
    p.add_argument("--data", metavar="DIR",
                   help="shared data folder with headers/ (default: ../shared/data or "
                        "$HASHCORE_SHARED_DATA when present)")
    p.add_argument("--scenario", metavar="FILE", help="a scenario TOML (default: embedded)")
    p.add_argument("--set", dest="overrides", action="append", default=[],
                   metavar="FIELD=VALUE", help="override a scenario field (repeatable)")
    p.add_argument("--seconds", type=float, default=5.0, metavar="S",
                   help="seconds to bench this host (default 5)")
    p.add_argument("--paths", type=int, metavar="N",
                   help="Monte Carlo paths (default: the scenario's)")
    p.add_argument("--quiet", action="store_true", help="print only where the report is")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from hashcore.report import build_report

    if not 0 < args.seconds <= 3600:
        raise InputError(f"--seconds must be in (0, 3600], got {args.seconds}")
    if args.paths is not None and args.paths < 1:
        raise InputError(f"--paths must be >= 1, got {args.paths}")
    log = (lambda _msg: None) if args.quiet else print
    rep = build_report(out_dir=args.out, data_dir=args.data, scenario_path=args.scenario,
                       overrides=args.overrides, bench_seconds=args.seconds,
                       mc_paths=args.paths, log=log)
    t = rep.data["totals"]
    if not args.quiet:
        print(f"result: {t['btc_mined']:,.0f} BTC, NPV USD {t['npv_usd'] / 1e6:,.0f} M "
              f"(median market); P(NPV > 0) = "
              f"{rep.data['montecarlo']['probability_npv_positive']:.1%}")
        for line in rep.skipped:
            print(f"skipped: {line}")
        print(f"files: {', '.join(f.name for f in rep.files)}")
    print(f"report written to {rep.html.resolve()}")
    return 0
