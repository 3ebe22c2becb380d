"""`hashcore asics`: the ASIC catalogue as a table (or JSON), sorted and filtered."""

from __future__ import annotations

import argparse
import json

from hashcore import asics


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("asics", help="list the SHA-256 ASIC catalogue with sources",
                       description="List the ASIC catalogue (hashcore/data/asics.csv).")
    p.add_argument("--sort", choices=sorted(asics.SORT_KEYS), default="efficiency",
                   help="efficiency: lowest J/TH first; hashrate, power, year: largest first")
    p.add_argument("--cooling", choices=asics.COOLINGS, help="only this cooling")
    p.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    p.add_argument("--sources", action="store_true", help="add the source of each row")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rows = asics.select(sort=args.sort, cooling=args.cooling)
    if args.json:
        print(json.dumps([a.as_dict() for a in rows], indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"SHA-256 ASICs ({len(rows)}), sorted by {args.sort}")
    for col, justify in (("maker", "left"), ("model", "left"), ("TH/s", "right"),
                         ("W", "right"), ("J/TH", "right"), ("cooling", "left"),
                         ("year", "right"), ("USD", "right"), ("price date", "left")):
        table.add_column(col, justify=justify, no_wrap=col in ("maker", "model", "price date"))
    if args.sources:
        table.add_column("source", overflow="fold")
    for a in rows:
        price = f"{a.price_usd:,.0f}" if a.price_usd is not None else ""
        watts = f"{a.power_w:,.0f}" if a.power_w >= 100 else f"{a.power_w:g}"
        cells = [a.maker, a.model, f"{a.hashrate_ths:g}", watts,
                 f"{a.efficiency_j_per_th:.1f}", a.cooling,
                 str(a.release_year or ""), price, a.price_date or ""]
        if args.sources:
            cells.append(f"{a.source} ({a.source_date})")
        table.add_row(*cells)
    Console().print(table)
    return 0
