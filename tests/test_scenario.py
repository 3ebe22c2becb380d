"""Scenario loading: every field validated, every error naming its field, overrides, sources."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from hashcore import scenario
from hashcore.cli import main
from hashcore.errors import ScenarioError

DEFAULT = scenario.load()

_WRONG_TYPE = {"float": "plenty", "int": 2.5, "bool": "yes", "str": 5, "choice": 7,
               "date": "next spring", "factors12": [0.5, 0.5], "machines": 3}


def _raw() -> dict:
    return copy.deepcopy(DEFAULT.raw)


def _error(raw: dict) -> ScenarioError:
    with pytest.raises(ScenarioError) as exc:
        scenario.validate(raw)
    return exc.value


def test_default_scenario_loads_and_every_number_has_a_source_or_assumption():
    s = DEFAULT
    assert s.values["power.mw"] == 2000.0
    assert s.values["scenario.start_date"] == dt.date(2026, 1, 8)
    assert s.price_usd_per_kwh == pytest.approx(22.5 / 281.22)
    missing = []
    for path in scenario.FIELDS:
        section, key = path.split(".", 1)
        if key not in s.raw.get(section, {}) or path == "scenario.name":
            continue
        note = s.sources.get(path, "")
        if "source:" not in note and "assumption:" not in note:
            missing.append(path)
    assert missing == []


@pytest.mark.parametrize("path", list(scenario.FIELDS))
def test_wrong_type_names_the_field(path):
    spec = scenario.FIELDS[path]
    raw = _raw()
    section, key = path.split(".", 1)
    raw.setdefault(section, {})[key] = _WRONG_TYPE[spec.kind]
    # the two ways of naming a fleet / a price exclude each other: drop the other one
    if path == "fleet.machines":
        raw["fleet"].pop("fill_model", None)
    if path == "electricity.price_usd_per_kwh":
        raw["electricity"].pop("price_local_per_kwh", None)
    err = _error(raw)
    assert err.field.startswith(path), (err.field, str(err))
    assert f"scenario field '{err.field}'" in str(err)
    assert "\n" not in str(err)


NUMERIC = [p for p, s in scenario.FIELDS.items() if s.kind in ("float", "int") and s.lo is not None]


@pytest.mark.parametrize("path", NUMERIC)
def test_below_range_names_the_field(path):
    spec = scenario.FIELDS[path]
    raw = _raw()
    section, key = path.split(".", 1)
    low = spec.lo - 1 if spec.kind == "int" else spec.lo - 0.5
    if path == "electricity.price_usd_per_kwh":
        raw["electricity"].pop("price_local_per_kwh", None)
    raw.setdefault(section, {})[key] = int(low) if spec.kind == "int" else float(low)
    err = _error(raw)
    assert err.field == path
    assert "must be" in err.what


def test_negative_power_is_refused():
    err = _error({**_raw(), "power": {**_raw()["power"], "mw": -5.0}})
    assert err.field == "power.mw" and ">= 0" in err.what


REQUIRED = [p for p, s in scenario.FIELDS.items() if s.default is scenario._REQUIRED]


@pytest.mark.parametrize("path", REQUIRED)
def test_missing_required_field_names_it(path):
    raw = _raw()
    section, key = path.split(".", 1)
    del raw[section][key]
    err = _error(raw)
    assert err.field == path and "missing" in err.what


@pytest.mark.parametrize("drop, field", [
    (("fleet", "fill_model"), "fleet.fill_model"),
    (("electricity", "price_local_per_kwh"), "electricity.price_usd_per_kwh"),
    (("electricity", "local_per_usd"), "electricity.local_per_usd"),
    (("network", "hashrate_ehs"), "network.hashrate_ehs"),
])
def test_missing_one_of_fields_names_them(drop, field):
    raw = _raw()
    del raw[drop[0]][drop[1]]
    err = _error(raw)
    assert err.field == field and "missing" in err.what


def test_unknown_asic_names_the_field_and_suggests():
    raw = _raw()
    raw["fleet"]["fill_model"] = "Antminer S99 Hyd"
    err = _error(raw)
    assert err.field == "fleet.fill_model" and "S99" in err.what
    raw["fleet"].pop("fill_model")
    raw["fleet"]["machines"] = [{"model": "Antminer S21", "count": 3},
                                {"model": "Nonexistent 9000", "count": 1}]
    err = _error(raw)
    assert err.field == "fleet.machines[1].model"


def test_machine_entries_are_checked():
    for entry, field in (({"model": "Antminer S21"}, "fleet.machines[0].count"),
                         ({"model": "Antminer S21", "count": -1}, "fleet.machines[0].count"),
                         ({"model": "Antminer S21", "count": 1, "colour": "red"},
                          "fleet.machines[0].colour"),
                         ("S21", "fleet.machines[0]")):
        raw = _raw()
        raw["fleet"].pop("fill_model")
        raw["fleet"]["machines"] = [entry]
        assert _error(raw).field == field


def test_unknown_field_and_section_and_conflicts():
    raw = _raw()
    raw["power"]["megawatts"] = 5
    assert _error(raw).field == "power.megawatts"
    raw = _raw()
    raw["weather"] = {"sunny": True}
    assert _error(raw).field == "weather"
    raw = _raw()
    raw["fleet"]["machines"] = [{"model": "Antminer S21", "count": 1}]
    assert _error(raw).field == "fleet.machines"  # and fill_model: not both
    raw = _raw()
    raw["electricity"]["price_usd_per_kwh"] = 0.05
    assert _error(raw).field == "electricity.price_local_per_kwh"
    raw = _raw()
    raw["power"]["monthly_factor"] = [0.5] * 11 + [1.5]
    assert _error(raw).field == "power.monthly_factor[11]"


def test_overrides_parse_as_toml_and_pass_validation():
    s = scenario.load(None, ["power.mw=500", "market.btc_price_usd=90000",
                             "fleet.fill_model=Antminer S21", "power.monthly_factor=[1,1,1,1,1,"
                             "1,1,1,1,1,1,1]", "fleet.switch_off_when_unprofitable=false"])
    assert s.values["power.mw"] == 500.0
    assert s.values["market.btc_price_usd"] == 90000.0
    assert s.values["fleet.fill_model"] == "Antminer S21"
    assert s.monthly_factor() == (1.0,) * 12
    assert s.values["fleet.switch_off_when_unprofitable"] is False
    with pytest.raises(ScenarioError) as exc:
        scenario.load(None, ["power.mw=-1"])
    assert exc.value.field == "power.mw"
    with pytest.raises(ScenarioError) as exc:
        scenario.load(None, ["power.watts=1"])
    assert exc.value.field == "power.watts"
    with pytest.raises(ScenarioError):
        scenario.load(None, ["power.mw"])
    # overriding the fleet with machines drops fill_model instead of conflicting
    s = DEFAULT.with_overrides({"fleet.machines": [{"model": "Antminer S21", "count": 2}]})
    assert s.values["fleet.fill_model"] is None and s.machines[0].count == 2


def test_out_of_range_date_and_non_utf8_file(tmp_path):
    raw = _raw()
    raw["scenario"]["start_date"] = dt.date(9999, 12, 1)
    assert _error(raw).field == "scenario.start_date"
    f = tmp_path / "latin1.toml"
    f.write_bytes(b"[scenario]\nname = \"caf\xe9\"\n")
    with pytest.raises(ScenarioError) as exc:
        scenario.load(f)
    assert "not UTF-8" in str(exc.value)


def test_bad_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[power\nmw = 3\n")
    with pytest.raises(ScenarioError) as exc:
        scenario.load(bad)
    assert "not valid TOML" in str(exc.value)
    with pytest.raises(ScenarioError) as exc:
        scenario.load(tmp_path / "absent.toml")
    assert "cannot read" in str(exc.value)
    deep = "[" * 5000 + "]" * 5000
    with pytest.raises(ScenarioError) as exc:
        scenario.loads(f"[power]\nmw = {deep}\n")
    assert "nested too deeply" in str(exc.value)
    with pytest.raises(ScenarioError) as exc:
        scenario.load(None, [f"power.monthly_factor={deep}"])
    assert exc.value.field == "power.monthly_factor"


def test_cli_reports_a_bad_field_in_one_line(capsys):
    code = main(["farm", "--set", "power.mw=-5"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "power.mw" in err and "Traceback" not in err
    code = main(["farm", "--set", "fleet.fill_model=Antminer S99"])
    err = capsys.readouterr().err
    assert code == 2 and "fleet.fill_model" in err


def test_cli_farm_runs_with_overrides_and_json(capsys):
    import json

    code = main(["farm", "--set", "scenario.months=12", "--set", "power.mw=100",
                 "--monte-carlo", "300", "--tornado", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert len(out["monthly"]["btc_mined"]) == 12
    assert out["montecarlo"]["paths"] == 300
    assert out["tornado"]["rows"]
    code = main(["farm", "--show-scenario"])
    text = capsys.readouterr().out
    assert code == 0 and "power.mw = 2000.0" in text and "source:" in text
