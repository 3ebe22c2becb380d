"""Farm scenarios: a TOML file, command-line overrides, and one validated ``Scenario``.

Every field is declared once in ``FIELDS`` (type, range, default, unit in the name); loading
checks each against it and names the field in a ``ScenarioError`` when it is missing, of the
wrong type, out of range or unknown. Overrides (``power.mw=500``) are applied to the raw
table before validation, so they pass the same checks. Comments in the TOML that start with
``source:`` or ``assumption:`` are kept per field, so a report can print where each number
came from.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hashcore.errors import ScenarioError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10 needs the tomli backport
    import tomli as tomllib  # type: ignore[no-redef]

DEFAULT_SCENARIO = "pakistan_2000mw.toml"
MONTHS_PER_YEAR = 12
_REQUIRED = object()


@dataclass(frozen=True)
class Spec:
    """One scenario field: its kind, its allowed range and its default."""

    kind: str  # float | int | bool | str | date | choice | factors12 | machines
    default: Any = _REQUIRED
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # lo itself not allowed
    hi_open: bool = False
    choices: tuple[str, ...] = ()
    doc: str = ""


FIELDS: dict[str, Spec] = {
    "scenario.name": Spec("str", doc="a title for reports"),
    "scenario.start_date": Spec("date", doc="first day of month 1 (YYYY-MM-DD)"),
    "scenario.start_height": Spec("int", lo=0, hi=2**31 - 1,
                                  doc="block height at the start date"),
    "scenario.months": Spec("int", 60, lo=1, hi=600, doc="horizon in months"),
    "power.mw": Spec("float", lo=0, hi=1e6, doc="power allocated to the farm at the meter, MW"),
    "power.monthly_factor": Spec("factors12", None,
                                 doc="fraction of power.mw available, January..December"),
    "power.pue": Spec("float", 1.0, lo=1.0, hi=3.0,
                      doc="power usage effectiveness: facility power / miner power"),
    "power.uptime": Spec("float", 1.0, lo=0.0, hi=1.0, doc="fraction of time running"),
    "power.curtailment_hours_per_month": Spec("float", 0.0, lo=0.0, hi=744.0,
                                              doc="hours a month the grid takes power back"),
    "fleet.fill_model": Spec("str", None, doc="fill the power with this catalogue model"),
    "fleet.machines": Spec("machines", None, doc="[{model=..., count=...}, ...]"),
    "fleet.size_to": Spec("choice", "peak", choices=("peak", "mean"),
                          doc="fill_model sizes the fleet to the peak or the mean month"),
    "fleet.degradation_per_year": Spec("float", 0.0, lo=0.0, hi=1.0, hi_open=True,
                                       doc="hash rate lost per machine per year"),
    "fleet.failure_rate_per_year": Spec("float", 0.0, lo=0.0, hi=1.0, hi_open=True,
                                        doc="machines lost per year, not replaced"),
    "fleet.switch_off_when_unprofitable": Spec("bool", False,
                                               doc="idle a model in a month its revenue does "
                                                   "not cover its energy"),
    "fleet.capex_usd_per_machine": Spec("float", None, lo=0.0,
                                        doc="price per machine; default: the catalogue's"),
    "fleet.site_capex_usd_per_mw": Spec("float", 0.0, lo=0.0,
                                        doc="buildings, cooling, electrical per MW of fleet"),
    "fleet.opex_usd_per_mw_month": Spec("float", 0.0, lo=0.0,
                                        doc="staff, maintenance, hosting per MW of fleet"),
    "electricity.price_usd_per_kwh": Spec("float", None, lo=0.0),
    "electricity.price_local_per_kwh": Spec("float", None, lo=0.0),
    "electricity.currency": Spec("str", "USD"),
    "electricity.local_per_usd": Spec("float", None, lo=0.0, lo_open=True,
                                      doc="exchange rate, local currency units per USD"),
    "market.btc_price_usd": Spec("float", lo=0.0, lo_open=True),
    "market.price_model": Spec("choice", "constant", choices=("constant", "growth", "gbm")),
    "market.price_growth_per_year": Spec("float", 0.0, lo=-1.0, lo_open=True),
    "market.price_volatility_per_year": Spec("float", 0.0, lo=0.0, hi=5.0),
    "market.fees_btc_per_block": Spec("float", 0.0, lo=0.0, hi=1000.0),
    "market.pool_fee": Spec("float", 0.0, lo=0.0, hi=1.0, hi_open=True),
    "network.hashrate_source": Spec("choice", "given", choices=("given", "calibration")),
    "network.hashrate_ehs": Spec("float", None, lo=0.0, lo_open=True,
                                 doc="network hash rate without this farm at the start, EH/s"),
    "network.growth_per_month": Spec("float", 0.0, lo=-1.0, lo_open=True),
    "network.growth_volatility_per_month": Spec("float", 0.0, lo=0.0, hi=2.0),
    "network.price_correlation": Spec("float", 0.0, lo=-1.0, hi=1.0,
                                      doc="correlation of monthly price and network shocks"),
    "finance.discount_rate_per_year": Spec("float", 0.10, lo=-1.0, lo_open=True),
    "montecarlo.paths": Spec("int", 10_000, lo=1, hi=1_000_000),
    "montecarlo.seed": Spec("int", 0, lo=0),
    "sensitivity.swing": Spec("float", 0.2, lo=0.0, hi=1.0, lo_open=True, hi_open=True,
                              doc="tornado: each input moved by +/- this fraction"),
}
SECTIONS = sorted({p.split(".")[0] for p in FIELDS})


@dataclass(frozen=True)
class Machine:
    model: str
    count: int


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: ``values`` maps each dotted field to its checked value."""

    values: dict[str, Any]
    machines: tuple[Machine, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)
    origin: str = "<scenario>"
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def __getitem__(self, path: str) -> Any:
        if path not in FIELDS:
            raise KeyError(path)
        return self.values[path]

    @property
    def name(self) -> str:
        return self.values["scenario.name"]

    @property
    def price_usd_per_kwh(self) -> float:
        """The electricity price in USD per kWh, converted if it was given in local money."""
        v = self.values
        if v["electricity.price_usd_per_kwh"] is not None:
            return v["electricity.price_usd_per_kwh"]
        return v["electricity.price_local_per_kwh"] / v["electricity.local_per_usd"]

    def monthly_factor(self) -> tuple[float, ...]:
        f = self.values["power.monthly_factor"]
        return tuple(f) if f is not None else (1.0,) * MONTHS_PER_YEAR

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A new validated scenario with dotted ``overrides`` applied to the raw table."""
        raw = copy.deepcopy(self.raw)
        for path, value in overrides.items():
            _set_path(raw, path, value)
        return validate(raw, self.origin, self.sources)


# ---------------------------------------------------------------- loading


def default_scenario_text() -> str:
    return resources.files("hashcore.data").joinpath(DEFAULT_SCENARIO).read_text("utf-8")


def load(path: str | Path | None = None, overrides: list[str] | dict[str, Any] | None = None
         ) -> Scenario:
    """Read a scenario TOML (the embedded default when ``path`` is None), apply overrides."""
    if path is None:
        text, origin = default_scenario_text(), f"<embedded {DEFAULT_SCENARIO}>"
    else:
        origin = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError("<file>", f"cannot read {path}: "
                                f"{exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise ScenarioError("<file>", f"{path} is not UTF-8 text (byte {exc.start})"
                                ) from None
    return loads(text, origin, overrides)


def loads(text: str, origin: str = "<scenario>",
          overrides: list[str] | dict[str, Any] | None = None) -> Scenario:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError("<file>", f"{origin} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise ScenarioError("<file>", f"{origin}: arrays or tables nested too deeply"
                            ) from None
    items = parse_overrides(overrides) if isinstance(overrides, list) else (overrides or {})
    for path, value in items.items():
        _set_path(raw, path, value)
    return validate(raw, origin, field_sources(text))


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["power.mw=500", "fleet.fill_model=Antminer S21"]`` -> {path: value}.

    The value is read as a TOML value when it is one (numbers, booleans, arrays, inline
    tables, quoted strings), else taken as a bare string.
    """
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ScenarioError(item, "an override must look like section.field=value")
        path, text = (s.strip() for s in item.split("=", 1))
        if path not in FIELDS:
            raise ScenarioError(path, f"unknown field (known: {', '.join(FIELDS)})")
        try:
            value = tomllib.loads(f"v = {text}")["v"]
        except tomllib.TOMLDecodeError:
            value = text
        except RecursionError:
            raise ScenarioError(path, "value nested too deeply") from None
        out[path] = value
    return out


def _set_path(raw: dict[str, Any], path: str, value: Any) -> None:
    section, _, key = path.partition(".")
    if not key or path not in FIELDS:
        raise ScenarioError(path, "unknown field")
    table = raw.setdefault(section, {})
    if not isinstance(table, dict):
        raise ScenarioError(section, "expected a table")
    table[key] = value
    if path == "fleet.fill_model":  # the two ways to name a fleet exclude each other
        table.pop("machines", None)
    elif path == "fleet.machines":
        table.pop("fill_model", None)
    elif path == "electricity.price_usd_per_kwh":
        table.pop("price_local_per_kwh", None)
    elif path == "electricity.price_local_per_kwh":
        table.pop("price_usd_per_kwh", None)


_KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=")
_TABLE_LINE = re.compile(r"^\s*\[([A-Za-z0-9_.]+)\]\s*(#.*)?$")
_NOTE = re.compile(r"#\s*((?:source|assumption)\s*:.*)$", re.IGNORECASE)


def field_sources(text: str) -> dict[str, str]:
    """``source:``/``assumption:`` notes per field.

    A comment block that holds such a note applies to the key lines right below it (up to a
    blank line or the next comment); a note at the end of a key line applies to that line.
    """
    sources: dict[str, str] = {}
    section, block, after_keys = "", [], False
    for line in text.splitlines():
        stripped = line.strip()
        table = _TABLE_LINE.match(line)
        if table:
            section, block, after_keys = table.group(1), [], False
            continue
        if not stripped:
            block, after_keys = [], False
            continue
        if stripped.startswith("#"):
            if after_keys:
                block, after_keys = [], False
            body = stripped.lstrip("#").strip()
            if _NOTE.match(stripped) or (block and body):
                block.append(body)
            continue
        key = _KEY_LINE.match(line)
        if key:
            after_keys = True
            notes = list(block)
            inline = _NOTE.search(line)
            if inline:
                notes.append(inline.group(1).strip())
            if notes:
                sources[f"{section}.{key.group(1)}"] = " ".join(notes)
    return sources


# ---------------------------------------------------------------- validation


def validate(raw: dict[str, Any], origin: str = "<scenario>",
             sources: dict[str, str] | None = None) -> Scenario:
    """Check every field of a parsed table; the first problem raises ScenarioError."""
    if not isinstance(raw, dict):
        raise ScenarioError("<top>", "expected a table of sections")
    for section, table in raw.items():
        if section not in SECTIONS:
            raise ScenarioError(section, f"unknown section (known: {', '.join(SECTIONS)})")
        if not isinstance(table, dict):
            raise ScenarioError(section, f"expected a table, got {_tname(table)}")
        for key in table:
            if f"{section}.{key}" not in FIELDS:
                known = ", ".join(p for p in FIELDS if p.startswith(section + "."))
                raise ScenarioError(f"{section}.{key}", f"unknown field (known: {known})")
    values: dict[str, Any] = {}
    for path, spec in FIELDS.items():
        section, key = path.split(".", 1)
        present = key in raw.get(section, {})
        if not present:
            if spec.default is _REQUIRED:
                raise ScenarioError(path, "missing required field")
            values[path] = spec.default
            continue
        values[path] = _check(path, spec, raw[section][key])
    machines = _cross_check(values)
    return Scenario(values=values, machines=machines, sources=dict(sources or {}),
                    origin=origin, raw=copy.deepcopy(raw))


def _tname(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "table"}.get(type(value), type(value).__name__)


def _number(path: str, spec: Spec, value: Any, integer: bool) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            integer and not isinstance(value, int)):
        want = "an integer" if integer else "a number"
        raise ScenarioError(path, f"expected {want}, got {_tname(value)} {value!r}")
    if not math.isfinite(value):
        raise ScenarioError(path, f"must be finite, got {value!r}")
    if spec.lo is not None and (value < spec.lo or (spec.lo_open and value == spec.lo)):
        op = ">" if spec.lo_open else ">="
        raise ScenarioError(path, f"must be {op} {spec.lo:g}, got {value!r}")
    if spec.hi is not None and (value > spec.hi or (spec.hi_open and value == spec.hi)):
        op = "<" if spec.hi_open else "<="
        raise ScenarioError(path, f"must be {op} {spec.hi:g}, got {value!r}")
    return value if integer else float(value)


def _check(path: str, spec: Spec, value: Any) -> Any:
    if spec.kind in ("float", "int"):
        return _number(path, spec, value, spec.kind == "int")
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ScenarioError(path, f"expected true or false, got {_tname(value)} {value!r}")
        return value
    if spec.kind in ("str", "choice"):
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(path, f"expected a non-empty string, got {_tname(value)}")
        if spec.kind == "choice" and value not in spec.choices:
            raise ScenarioError(path, f"expected one of {', '.join(spec.choices)}, "
                                f"got {value!r}")
        return value.strip()
    if spec.kind == "date":
        day = None
        if isinstance(value, dt.datetime):
            day = value.date()
        elif isinstance(value, dt.date):
            day = value
        elif isinstance(value, str):
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                pass
        if day is None:
            raise ScenarioError(path, f"expected a date YYYY-MM-DD, got {value!r}")
        if not 2009 <= day.year <= 2200:
            raise ScenarioError(path, f"must be between 2009 and 2200, got {day}")
        return day
    if spec.kind == "factors12":
        if not isinstance(value, list) or len(value) != MONTHS_PER_YEAR:
            raise ScenarioError(path, "expected an array of 12 numbers (January..December)")
        one = Spec("float", lo=0.0, hi=1.0)
        return tuple(_number(f"{path}[{i}]", one, v, False) for i, v in enumerate(value))
    if spec.kind == "machines":
        if not isinstance(value, list) or not value:
            raise ScenarioError(path, "expected a non-empty array of {model=..., count=...}")
        out = []
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            if not isinstance(item, dict):
                raise ScenarioError(where, f"expected a table, got {_tname(item)}")
            extra = set(item) - {"model", "count"}
            if extra:
                raise ScenarioError(f"{where}.{sorted(extra)[0]}", "unknown field")
            for k in ("model", "count"):
                if k not in item:
                    raise ScenarioError(f"{where}.{k}", "missing required field")
            model = _check(f"{where}.model", Spec("str"), item["model"])
            count = _number(f"{where}.count", Spec("int", lo=0), item["count"], True)
            out.append(Machine(model, int(count)))
        return tuple(out)
    raise AssertionError(spec.kind)  # pragma: no cover - FIELDS is static


def _cross_check(values: dict[str, Any]) -> tuple[Machine, ...]:
    fill, machines = values["fleet.fill_model"], values["fleet.machines"]
    if fill is None and machines is None:
        raise ScenarioError("fleet.fill_model", "missing: give fleet.fill_model or "
                            "fleet.machines")
    if fill is not None and machines is not None:
        raise ScenarioError("fleet.machines", "give fleet.fill_model or fleet.machines, "
                            "not both")
    usd, local = values["electricity.price_usd_per_kwh"], values["electricity.price_local_per_kwh"]
    if usd is None and local is None:
        raise ScenarioError("electricity.price_usd_per_kwh", "missing: give "
                            "electricity.price_usd_per_kwh or electricity.price_local_per_kwh")
    if usd is not None and local is not None:
        raise ScenarioError("electricity.price_local_per_kwh", "give a USD price or a local "
                            "price, not both")
    if local is not None and values["electricity.local_per_usd"] is None:
        raise ScenarioError("electricity.local_per_usd", "missing: a local price needs "
                            "the exchange rate (local units per USD)")
    if (values["network.hashrate_source"] == "given"
            and values["network.hashrate_ehs"] is None):
        raise ScenarioError("network.hashrate_ehs", "missing required field (or set "
                            "network.hashrate_source = \"calibration\")")
    names = [fill] if fill is not None else [m.model for m in machines]
    for i, name in enumerate(names):
        where = "fleet.fill_model" if fill is not None else f"fleet.machines[{i}].model"
        resolve_model(name, where)
    return tuple(machines) if machines is not None else ()


# ---------------------------------------------------------------- the ASIC catalogue


@dataclass(frozen=True)
class ModelSpec:
    """What the farm needs of one catalogue row."""

    name: str
    hashrate_ths: float
    power_w: float
    price_usd: float | None
    price_source: str = ""


def resolve_model(name: str, where: str = "fleet.fill_model") -> ModelSpec:
    """Look ``name`` up in the ASIC catalogue; an unknown model names the field."""
    from hashcore import asics
    from hashcore.errors import InputError

    try:
        row = asics.lookup(name)
    except InputError as exc:
        raise ScenarioError(where, str(exc)) from None
    return ModelSpec(name=row.model, hashrate_ths=float(row.hashrate_ths),
                     power_w=float(row.power_w), price_usd=row.price_usd,
                     price_source=f"{row.source} ({row.price_date})" if row.price_usd else "")
