#!/usr/bin/env python3
"""Fuzz the scenario loader: a TOML file from disk, TOML text, and command-line overrides.

Input layout: byte 0 picks the entry point (file, text, text + overrides); for overrides the
rest is split at the first NUL into TOML text and newline-separated ``field=value`` items.
"""

from __future__ import annotations

import sys

from _common import expected_errors, main, scratch_dir  # noqa: I001

from hashcore import scenario

NAME = "scenario"
_PATH = scratch_dir(NAME) / "scenario.toml"


def seeds() -> list[bytes]:
    out = []
    try:
        text = scenario.default_scenario_text().encode()
    except (OSError, FileNotFoundError, ModuleNotFoundError):
        text = b""
    minimal = (b'[scenario]\nname = "x"\nstart_date = 2026-01-01\nstart_height = 930000\n'
               b'[power]\nmw = 10.0\n[fleet]\nfill_model = "Antminer S21"\n'
               b'[electricity]\nprice_usd_per_kwh = 0.05\n[market]\nbtc_price_usd = 90000.0\n')
    for body in (text, minimal):
        if body:
            out.append(b"\x00" + body)
            out.append(b"\x01" + body)
            out.append(b"\x02" + body + b"\x00power.mw=500\nmarket.btc_price_usd=-1\n"
                       b"fleet.machines=[{model='Antminer S21', count=3}]")
    return out


def dictionary() -> list[bytes]:
    """Every section and field name the loader knows, and awkward TOML values."""
    tokens = {f.split(".")[0].encode() for f in scenario.FIELDS}
    tokens |= {f.split(".")[1].encode() for f in scenario.FIELDS}
    tokens |= {f.encode() + b"=" for f in scenario.FIELDS}
    values = [b"nan", b"inf", b"-inf", b"1e400", b"-1", b"0", b"1979-05-27", b"[[", b"{}",
              b'"x"', b"true", b"1_000", b"0x10", b"[1,2,3,4,5,6,7,8,9,10,11,12]"]
    return sorted(tokens) + values


def one_input(data: bytes) -> None:
    if not data:
        return
    mode, body = data[0] % 3, data[1:]
    with expected_errors():
        if mode == 0:
            with open(_PATH, "wb") as f:
                f.write(body)
            scenario.load(_PATH)
        elif mode == 1:
            scenario.loads(body.decode("utf-8", "replace"), "<fuzz>")
        else:
            text, _, items = body.partition(b"\x00")
            overrides = items.decode("utf-8", "replace").split("\n") if items else []
            scenario.loads(text.decode("utf-8", "replace"), "<fuzz>", overrides)


if __name__ == "__main__":
    main(one_input)
    sys.exit(0)
