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


def _by_model(catalogue: list[asics.Asic]) -> dict[str, asics.Asic]:
    return {a.model: a for a in catalogue}


def _family(catalogue: list[asics.Asic], prefix: str) -> list[asics.Asic]:
    return [a for a in catalogue if a.model.startswith(prefix)]


def test_families_and_coolings_present(catalogue):
    models = _by_model(catalogue)
    makers = {a.maker for a in catalogue}
    assert "Antminer S9" in models
    for family in ("Antminer S19", "Antminer S21", "Antminer S23"):
        assert _family(catalogue, family), family
    # air and hydro for each of the S19, S21 and S23 families
    for family in ("Antminer S19", "Antminer S21", "Antminer S23"):
        assert {a.cooling for a in _family(catalogue, family)} >= {"air", "hydro"}, family
    assert models["Antminer S23 Hyd"].cooling == "hydro" and models["Antminer S23"].cooling == "air"
    # Auradine's Teraflux line in all three coolings
    teraflux = {a.model: a.cooling for a in catalogue if a.maker == "Auradine"}
    assert teraflux == {"Teraflux AT2880": "air", "Teraflux AH3880": "hydro",
                        "Teraflux AI3680": "immersion"}
    assert {"Bitmain", "MicroBT", "Canaan", "Bitdeer"} <= makers
    assert any(m.startswith("Bitaxe") for m in models)
    assert {a.cooling for a in catalogue} <= set(asics.COOLINGS)


# the issue's families that a public source could be found for (docs/calibrate.md lists the rest)
ISSUE_MODELS = ["Whatsminer M30S++", "Whatsminer M50S++", "Whatsminer M53S++", "Whatsminer M60",
                "Whatsminer M60S", "Avalon A1346", "Avalon A1366", "Avalon A1466", "Avalon A16",
                "Avalon A16 XP", "Antminer S19 XP Hyd", "Antminer S21 Hyd", "Antminer S23 Hyd",
                "Whatsminer M30S+", "Whatsminer M63S", "Whatsminer M66S", "Whatsminer M70",
                "Whatsminer M70S", "Whatsminer M70S+", "Avalon A1246", "Avalon A1566",
                "Antminer S23", "Teraflux AT2880", "Teraflux AH3880", "Teraflux AI3680"]


@pytest.mark.parametrize("model", ISSUE_MODELS)
def test_issue_models_present_and_sourced(catalogue, model):
    a = _by_model(catalogue)[model]
    assert re.search(r"https?://\S+", a.source) and a.source_date and a.note
    assert asics.lookup(model) == a


def test_each_generation_is_more_efficient_and_later(catalogue):
    """Newer generations of one maker hash for fewer joules and were released later."""
    m = _by_model(catalogue)
    for older, newer in [("Antminer S9", "Antminer S19"), ("Antminer S19", "Antminer S21"),
                         ("Antminer S21", "Antminer S23 Hyd"),
                         ("Whatsminer M30S++", "Whatsminer M50S++"),
                         ("Whatsminer M50S++", "Whatsminer M60S"),
                         ("Avalon A1246", "Avalon A1346"), ("Avalon A1466", "Avalon A1566"),
                         ("Avalon A1346", "Avalon A1466"), ("Avalon A1466", "Avalon A16"),
                         ("Whatsminer M60S", "Whatsminer M70S"),
                         ("Antminer S21 Pro", "Antminer S23")]:
        assert m[newer].efficiency_j_per_th < m[older].efficiency_j_per_th, (older, newer)
        if m[older].release_year and m[newer].release_year:
            assert m[newer].release_year > m[older].release_year, (older, newer)


DERIVED = re.compile(r"power_w = ([\d.]+)(?: TH/s)? x ([\d.]+)")


def test_derived_power_matches_its_note(catalogue):
    """A row whose note says power_w = TH/s x J/TH must carry exactly those numbers."""
    derived = [(a, DERIVED.search(a.note)) for a in catalogue]
    derived = [(a, m) for a, m in derived if m]
    assert len(derived) >= 10
    for a, m in derived:
        ths, jth = float(m[1]), float(m[2])
        assert ths == a.hashrate_ths and jth == a.efficiency_j_per_th, a.model
        assert a.power_w == pytest.approx(ths * jth, abs=0.05), a.model


def test_teraflux_brand_word_is_optional():
    assert asics.lookup("AT2880").model == asics.lookup("Auradine Teraflux AT2880").model


def test_plus_suffixes_are_distinct_models():
    assert asics.lookup("M30S++").model == "Whatsminer M30S++"
    assert asics.lookup("M30S+").model == "Whatsminer M30S+"
    assert asics.lookup("M70S+").model == "Whatsminer M70S+"
    assert asics.lookup("M70S").model == "Whatsminer M70S"
    with pytest.raises(asics.UnknownModel, match="Whatsminer M70S"):
        asics.lookup("M70S+++")


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
