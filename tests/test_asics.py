"""The ASIC catalogue: invariants of the shipped data, lookup, validation errors, the CLI."""

from __future__ import annotations

import json
import re

import pytest

from hashcore import asics
from hashcore.cli import main
from hashcore.errors import InputError, ReadError

HEADER = ",".join(asics.COLUMNS)
GOOD = ('Bitmain,Antminer X1,100,2000,20.0,air,2024,,,https://example.org/x1,2024-01-01,""')


@pytest.fixture(scope="module")
def catalogue() -> list[asics.Asic]:
    return asics.load_catalogue()


def test_catalogue_has_at_least_25_sourced_rows(catalogue):
    assert len(catalogue) >= 25
    for a in catalogue:
        assert re.search(r"https?://\S+", a.source), a.model
        assert a.source_date, a.model


def test_efficiency_agrees_with_power_over_hashrate(catalogue):
    for a in catalogue:
        ratio = a.power_w / a.hashrate_ths
        assert abs(ratio - a.efficiency_j_per_th) <= asics.EFFICIENCY_TOLERANCE * ratio, a.model
        assert a.hashes_per_joule == pytest.approx(1e12 / a.efficiency_j_per_th)


def test_families_and_coolings_present(catalogue):
    models = {a.model for a in catalogue}
    makers = {a.maker for a in catalogue}
    assert "Antminer S9" in models
    for family in ("Antminer S19", "Antminer S21", "Antminer S23"):
        assert any(m.startswith(family) for m in models), family
    s21 = [a for a in catalogue if a.model.startswith("Antminer S21")]
    assert {a.cooling for a in s21} >= {"air", "hydro"}
    assert any(m.startswith("Whatsminer M6") for m in models)
    assert any(m.startswith("Avalon A16") for m in models)
    assert {"Bitmain", "MicroBT", "Canaan"} <= makers
    assert any(m.startswith("Bitaxe") for m in models)
    assert {a.cooling for a in catalogue} <= set(asics.COOLINGS)


def test_prices_carry_dates(catalogue):
    for a in catalogue:
        assert (a.price_usd is None) == (a.price_date is None), a.model


@pytest.mark.parametrize("name", ["Antminer S21 Pro", "antminer s21 pro", "S21 PRO",
                                  "Bitmain Antminer S21 Pro", "s21-pro"])
def test_lookup_is_case_and_prefix_insensitive(name):
    assert asics.lookup(name).model == "Antminer S21 Pro"


def test_lookup_hydro_spellings():
    assert asics.lookup("S21 Hydro").model == asics.lookup("Antminer S21 Hyd").model


def test_unknown_model_names_close_matches():
    with pytest.raises(asics.UnknownModel) as exc:
        asics.lookup("Antminer S21 Prro")
    msg = str(exc.value)
    assert "'Antminer S21 Prro'" in msg and "Antminer S21 Pro" in msg
    assert isinstance(exc.value, LookupError) and isinstance(exc.value, InputError)
    assert asics.find is asics.lookup


def test_unknown_model_without_neighbours_points_to_the_list():
    with pytest.raises(asics.UnknownModel, match="hashcore asics"):
        asics.lookup("zzzzzzzzzzzz")
    with pytest.raises(InputError):
        asics.lookup("  ")


def test_select_sorts_and_filters(catalogue):
    best = asics.select(sort="efficiency")
    assert [a.efficiency_j_per_th for a in best] == sorted(a.efficiency_j_per_th for a in best)
    hydro = asics.select(cooling="hydro", sort="hashrate")
    assert hydro and all(a.cooling == "hydro" for a in hydro)
    assert [a.hashrate_ths for a in hydro] == sorted((a.hashrate_ths for a in hydro),
                                                     reverse=True)
    with pytest.raises(InputError, match="sort key"):
        asics.select(sort="colour")
    with pytest.raises(InputError, match="cooling"):
        asics.select(cooling="oil")


def test_parse_good_row():
    rows = asics.parse_catalogue(f"# comment\n{HEADER}\n{GOOD}\n")
    assert rows[0].model == "Antminer X1" and rows[0].release_year == 2024


@pytest.mark.parametrize("row, where, what", [
    (GOOD.replace(",20.0,", ",25.0,"), "line 2", "efficiency_j_per_th"),
    (GOOD.replace(",2000,", ",abc,"), "line 2", "power_w"),
    (GOOD.replace(",100,", ",-5,"), "line 2", "hashrate_ths"),
    (GOOD.replace(",air,", ",oil,"), "line 2", "cooling"),
    (GOOD.replace(",2024,,,", ",2024,1000,,"), "line 2", "price_date"),
    (GOOD.replace(",2024,", ",1999,"), "line 2", "release_year"),
    (GOOD.replace("https://example.org/x1", ""), "line 2", "source"),
    (GOOD + ",extra", "line 2", "13 fields"),
    ('Bitmain,"Antminer "X1,100', "line 2", "malformed CSV"),
])
def test_bad_rows_name_line_and_field(row, where, what):
    with pytest.raises(ReadError) as exc:
        asics.parse_catalogue(f"{HEADER}\n{row}\n", "t.csv")
    msg = str(exc.value)
    assert msg.startswith(f"t.csv: {where}: ") and what in msg


def test_missing_column_and_duplicates():
    header = HEADER.replace("power_w,", "")
    with pytest.raises(ReadError, match="line 1: missing column.*power_w"):
        asics.parse_catalogue(f"{header}\n", "t.csv")
    with pytest.raises(ReadError, match="line 3: model 'Antminer X1' duplicates line 2"):
        asics.parse_catalogue(f"{HEADER}\n{GOOD}\n{GOOD}\n", "t.csv")
    with pytest.raises(ReadError, match="empty"):
        asics.parse_catalogue("# only a comment\n", "t.csv")


def test_load_missing_file(tmp_path):
    with pytest.raises(ReadError, match="open"):
        asics.load_catalogue(tmp_path / "nope.csv")


def test_cli_json_and_table(capsys):
    assert main(["asics", "--json", "--cooling", "hydro", "--sort", "power"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(r["cooling"] == "hydro" for r in rows)
    assert [r["power_w"] for r in rows] == sorted((r["power_w"] for r in rows), reverse=True)
    assert main(["asics", "--sort", "year"]) == 0
    assert "Antminer S9" in capsys.readouterr().out
