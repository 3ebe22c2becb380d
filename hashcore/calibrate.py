"""Measured rates -> ASIC terms: the ``Calibration`` that the farm model reads.

Three independent measurements, each optional:

* ``host``: this machine's SHA-256d throughput and energy from a bench JSON, as J/TH;
* ``network``: the network hash rate per retarget period, estimated from real header fields
  (difficulty and timestamps) with a gamma confidence interval;
* ``fleet``: per-model derating factors of real miners against their nominal specs.

The economics never hash: everything here reads fields that were measured elsewhere.
The JSON form is stable (``SCHEMA``); ``from_json`` rejects anything else with a clear error.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hashcore.errors import InputError, ReadError

SCHEMA = "hashcore.calibration/1"
ENERGY_SOURCES = ("rapl", "stated", "estimate")


@dataclass(frozen=True)
class HostCalibration:
    """This host's measured SHA-256d efficiency (one bench entry: the best path measured)."""

    hashes_per_joule: float
    j_per_th: float
    rate_hs: float
    path: str
    threads: int
    energy_source: str  # "rapl" | "stated" | "estimate"
    power_w: float | None = None
    bench_name: str = ""


@dataclass(frozen=True)
class PeriodEstimate:
    """The network hash rate over one span of consecutive blocks at one difficulty.

    ``blocks`` intervals were observed between ``start_time_utc`` and ``end_time_utc``;
    ``hashrate_hs = difficulty * 2**32 / mean_interval_s`` and the interval is the gamma one.
    ``bits`` are the first block's; ``difficulty`` is the mean over the window's blocks (it
    differs from the period's only when the window ends on the first block of the next period,
    as the checkpoint series does).
    """

    start_height: int
    end_height: int
    start_time_utc: str
    end_time_utc: str
    bits: int
    difficulty: float
    blocks: int
    mean_interval_s: float
    hashrate_hs: float
    hashrate_low_hs: float
    hashrate_high_hs: float


@dataclass(frozen=True)
class NetworkEstimate:
    """Network hash rate at the chain tip with its interval, and the history it came from."""

    tip_height: int
    tip_time_utc: str
    hashrate_hs: float
    hashrate_low_hs: float
    hashrate_high_hs: float
    confidence: float
    difficulty: float
    history: list[PeriodEstimate] = field(default_factory=list)
    source: str = ""


@dataclass(frozen=True)
class Derating:
    """Measured / nominal for one ASIC model across a fleet (1.0 = as specified).

    ``power_factor`` and ``efficiency_factor`` are None when no machine of the model reported
    its power (stock Antminer firmware does not); ``machines_with_power`` says how many did.
    Machines reporting 0 TH/s are down, not derated: they are counted in ``machines_down`` and
    left out of the factors (uptime and failures belong to the farm model).
    """

    model: str
    machines: int
    hashrate_factor: float
    power_factor: float | None
    efficiency_factor: float | None
    machines_with_power: int = 0
    machines_down: int = 0


@dataclass(frozen=True)
class Calibration:
    """Everything measured, in one JSON-serialisable object."""

    created_utc: str
    host: HostCalibration | None = None
    network: NetworkEstimate | None = None
    fleet: dict[str, Derating] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types; ``fleet`` keyed by model name."""
        out: dict[str, Any] = {"schema": SCHEMA, "created_utc": self.created_utc}
        out["host"] = asdict(self.host) if self.host else None
        out["network"] = asdict(self.network) if self.network else None
        out["fleet"] = {name: asdict(d) for name, d in self.fleet.items()}
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Any, source: str = "<calibration>") -> Calibration:
        """Rebuild from ``to_dict`` output; a wrong or missing field names itself."""
        if not isinstance(data, dict):
            raise ReadError(source, "top level", "expected a JSON object")
        schema = data.get("schema")
        if schema != SCHEMA:
            raise ReadError(source, "field 'schema'", f"expected {SCHEMA!r}, got {schema!r}")
        created = data.get("created_utc")
        if not isinstance(created, str):
            raise ReadError(source, "field 'created_utc'", "expected a string")
        host = _build(HostCalibration, data.get("host"), source, "host")
        net_raw = data.get("network")
        network = None
        if net_raw is not None:
            if not isinstance(net_raw, dict):
                raise ReadError(source, "field 'network'", "expected an object or null")
            hist_raw = net_raw.get("history", [])
            if not isinstance(hist_raw, list):
                raise ReadError(source, "field 'network.history'", "expected a list")
            history = [_build(PeriodEstimate, h, source, f"network.history[{i}]")
                       for i, h in enumerate(hist_raw)]
            network = _build(NetworkEstimate, {**net_raw, "history": history}, source,
                             "network")
        fleet_raw = data.get("fleet", {})
        if not isinstance(fleet_raw, dict):
            raise ReadError(source, "field 'fleet'", "expected an object keyed by model")
        fleet = {str(k): _build(Derating, v, source, f"fleet.{k}") for k, v in fleet_raw.items()}
        return cls(created_utc=created, host=host, network=network, fleet=fleet)

    @classmethod
    def from_json(cls, text: str, source: str = "<calibration>") -> Calibration:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReadError(source, f"line {exc.lineno} column {exc.colno}",
                            f"not JSON: {exc.msg}") from None
        return cls.from_dict(data, source)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        from hashcore.asics import read_text_file

        return cls.from_json(read_text_file(path), str(path))


# Types each field may hold in JSON (after None is allowed where the default/annotation says).
_FLOAT, _INT, _STR = (int, float), (int,), (str,)
_FIELD_TYPES: dict[type, dict[str, tuple[tuple[type, ...], bool]]] = {
    HostCalibration: {"hashes_per_joule": (_FLOAT, False), "j_per_th": (_FLOAT, False),
                      "rate_hs": (_FLOAT, False), "path": (_STR, False),
                      "threads": (_INT, False), "energy_source": (_STR, False),
                      "power_w": (_FLOAT, True), "bench_name": (_STR, False)},
    PeriodEstimate: {"start_height": (_INT, False), "end_height": (_INT, False),
                     "start_time_utc": (_STR, False), "end_time_utc": (_STR, False),
                     "bits": (_INT, False), "difficulty": (_FLOAT, False),
                     "blocks": (_INT, False), "mean_interval_s": (_FLOAT, False),
                     "hashrate_hs": (_FLOAT, False), "hashrate_low_hs": (_FLOAT, False),
                     "hashrate_high_hs": (_FLOAT, False)},
    NetworkEstimate: {"tip_height": (_INT, False), "tip_time_utc": (_STR, False),
                      "hashrate_hs": (_FLOAT, False), "hashrate_low_hs": (_FLOAT, False),
                      "hashrate_high_hs": (_FLOAT, False), "confidence": (_FLOAT, False),
                      "difficulty": (_FLOAT, False), "history": ((list,), False),
                      "source": (_STR, False)},
    Derating: {"model": (_STR, False), "machines": (_INT, False),
               "hashrate_factor": (_FLOAT, False), "power_factor": (_FLOAT, True),
               "efficiency_factor": (_FLOAT, True), "machines_with_power": (_INT, False),
               "machines_down": (_INT, False)},
}


def _build(cls: type, raw: Any, source: str, where: str) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ReadError(source, f"field '{where}'", "expected an object or null")
    spec = _FIELD_TYPES[cls]
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in raw:
            has_default = f.default is not MISSING or f.default_factory is not MISSING
            if has_default:
                continue
            raise ReadError(source, f"field '{where}.{f.name}'", "missing")
        value = raw[f.name]
        types, nullable = spec[f.name]
        if value is None and nullable:
            kwargs[f.name] = None
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            want = "/".join(t.__name__ for t in types)
            raise ReadError(source, f"field '{where}.{f.name}'",
                            f"expected {want}, got {type(value).__name__}")
        if types is _FLOAT and not math.isfinite(value):
            raise ReadError(source, f"field '{where}.{f.name}'", "must be finite")
        kwargs[f.name] = float(value) if types is _FLOAT else value
    if cls is HostCalibration and kwargs["energy_source"] not in ENERGY_SOURCES:
        raise ReadError(source, f"field '{where}.energy_source'",
                        f"expected one of {', '.join(ENERGY_SOURCES)}, "
                        f"got {kwargs['energy_source']!r}")
    return cls(**kwargs)


def utc_now() -> str:
    """ISO 8601 UTC timestamp with a Z, to the second."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- this host, from a bench JSON

TH = 1e12
PH = 1e15
_RATE_KEYS = ("rate_hs", "hashrate_hs", "hashes_per_second")
# bench operations whose unit is one SHA-256d of an 80-byte header, i.e. one mining hash
HEADER_OPERATIONS = ("scan", "headers")


def _bench_entries(data: Any, source: str) -> list[dict[str, Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise ReadError(source, "top level", "not a pytest-benchmark JSON (no 'benchmarks' list)")
    return data["benchmarks"]


def _host_from_entry(entry: Any, source: str, index: int) -> HostCalibration | None:
    """One benchmark -> HostCalibration, or None when it carries no energy figure."""
    where = f"benchmarks[{index}]"
    if not isinstance(entry, dict):
        raise ReadError(source, where, "expected an object")
    extra = entry.get("extra_info")
    if not isinstance(extra, dict) or extra.get("baseline") is True:
        return None  # the hashlib reference row is not this host's mining path
    if extra.get("operation", "scan") not in HEADER_OPERATIONS:
        return None  # sha256d of arbitrary messages is not a header hash
    hashes, joules = extra.get("hashes"), extra.get("joules")
    if hashes is None or joules is None:
        return None
    for name, value in (("hashes", hashes), ("joules", joules)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value <= 0:
            raise ReadError(source, f"{where}.extra_info.{name}",
                            f"expected a number > 0, got {value!r}")
    rate = next((extra[k] for k in _RATE_KEYS if k in extra), None)
    if rate is None:
        seconds = extra.get("seconds")
        if seconds is None:
            stats = entry.get("stats") if isinstance(entry.get("stats"), dict) else {}
            seconds = stats.get("total")
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            raise ReadError(source, f"{where}.extra_info",
                            "no rate: give rate_hs, or seconds (or stats.total) covering the "
                            "hashes")
        rate = hashes / seconds
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate <= 0:
        raise ReadError(source, f"{where}.extra_info.rate_hs", f"expected > 0, got {rate!r}")
    energy = extra.get("energy_source", extra.get("energy"))
    if isinstance(energy, dict):
        energy = energy.get("source")
    if energy not in ENERGY_SOURCES:
        raise ReadError(source, f"{where}.extra_info.energy_source",
                        f"expected one of {', '.join(ENERGY_SOURCES)}, got {energy!r}")
    threads = extra.get("threads", 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ReadError(source, f"{where}.extra_info.threads", f"expected >= 1, got {threads!r}")
    hpj = float(hashes) / float(joules)
    return HostCalibration(hashes_per_joule=hpj, j_per_th=TH / hpj, rate_hs=float(rate),
                           path=str(extra.get("implementation") or extra.get("path", "?")),
                           threads=threads, energy_source=energy,
                           power_w=float(rate) / hpj,
                           bench_name=str(entry.get("name", entry.get("fullname", ""))))


def host_from_bench(bench: str | Path | dict[str, Any]) -> HostCalibration:
    """This host's best measured efficiency (most hashes per joule) from a bench JSON.

    Each benchmark's ``extra_info`` must hold ``hashes`` and ``joules`` over the same rounds and
    the energy ``energy_source``; the rate comes from ``rate_hs`` or ``hashes / seconds``.
    A ``scan`` benchmark is preferred when there is one: it is what a miner does.
    """
    if isinstance(bench, dict):
        data, source = bench, "<bench>"
    else:
        from hashcore.asics import read_text_file

        source = str(bench)
        try:
            data = json.loads(read_text_file(bench))
        except json.JSONDecodeError as exc:
            raise ReadError(source, f"line {exc.lineno} column {exc.colno}",
                            f"not JSON: {exc.msg}") from None
    entries = _bench_entries(data, source)
    found: list[tuple[bool, HostCalibration]] = []
    for i, entry in enumerate(entries):
        host = _host_from_entry(entry, source, i)
        if host is not None:
            op = entry.get("extra_info", {}).get("operation", "")
            found.append((op == "scan", host))
    if not found:
        raise ReadError(source, "benchmarks",
                        "no benchmark records energy (extra_info.hashes and .joules); "
                        "run `hashcore bench --json PATH` with an energy source")
    best_is_scan = any(is_scan for is_scan, _ in found)
    pool = [h for is_scan, h in found if is_scan or not best_is_scan]
    return max(pool, key=lambda h: h.hashes_per_joule)


@dataclass(frozen=True)
class HostVsAsic:
    """How this host compares with one ASIC model."""

    model: str
    asic_j_per_th: float
    efficiency_ratio: float  # host J/TH / ASIC J/TH: how many times the energy per hash
    hosts_per_asic: float  # hosts needed to match one ASIC's hash rate
    host_power_for_1phs_w: float
    asic_power_for_1phs_w: float


def compare_host(host: HostCalibration, catalogue: Any = None) -> list[HostVsAsic]:
    """This host against every catalogue row (or the rows given), best ASIC first."""
    from hashcore import asics

    rows = asics.select(catalogue, sort="efficiency")
    out = []
    for a in rows:
        out.append(HostVsAsic(
            model=a.model, asic_j_per_th=a.efficiency_j_per_th,
            efficiency_ratio=host.j_per_th / a.efficiency_j_per_th,
            hosts_per_asic=a.hashrate_hs / host.rate_hs,
            host_power_for_1phs_w=host.j_per_th * PH / TH,
            asic_power_for_1phs_w=a.efficiency_j_per_th * PH / TH))
    return out


# ---------------------------------------------------------------- a fleet, from a CSV

FLEET_REQUIRED = ("host", "model", "hashrate_ths", "power_w")


def fleet_derating(fleet_csv: str | Path, catalogue: Any = None,
                   skip_unknown: bool = False) -> dict[str, Derating]:
    """Measured / nominal per model from a fleet CSV (one row per machine).

    ``power_w`` may be empty ("not reported", e.g. stock Antminer firmware); such machines
    count for the hash-rate factor only. Keys are the catalogue's model names. A model the
    catalogue lacks is an error naming the line, unless ``skip_unknown``: then its rows are
    left out with one warning per model, so one uncatalogued machine does not block a fleet.
    """
    from hashcore import asics

    source = str(fleet_csv)
    text = asics.read_text_file(fleet_csv)
    rows = list(catalogue) if catalogue is not None else asics.load_catalogue()
    per_model: dict[str, dict[str, list[float]]] = {}
    skipped: set[str] = set()
    for lineno, row in asics.iter_csv_rows(text, source, FLEET_REQUIRED):
        where = f"line {lineno}"
        if not row["host"]:
            raise ReadError(source, where, "field 'host' is empty")
        try:
            spec = asics.lookup(row["model"], rows)
        except InputError as exc:
            if not skip_unknown:
                raise ReadError(source, where, f"field 'model': {exc}") from None
            if row["model"] not in skipped:
                skipped.add(row["model"])
                warnings.warn(f"{source}: {where}: model {row['model']!r} is not in the ASIC "
                              f"catalogue; its machines are left out of the derating",
                              RuntimeWarning, stacklevel=2)
            continue
        ths = asics.parse_number(row, "hashrate_ths", source, lineno, positive=False)
        assert ths is not None
        if ths < 0:
            raise ReadError(source, where, f"field 'hashrate_ths': {ths} is negative")
        watts = asics.parse_number(row, "power_w", source, lineno, optional=True)
        acc = per_model.setdefault(spec.model, {"th": [], "w": [], "eff": [], "down": []})
        if ths == 0:
            acc["down"].append(1.0)
            continue
        acc["th"].append(ths / spec.hashrate_ths)
        if watts is not None:
            acc["w"].append(watts / spec.power_w)
            acc["eff"].append((watts / ths) / spec.efficiency_j_per_th)
    if not per_model:
        raise ReadError(source, "end of file", "no machines in the fleet CSV")
    out = {}
    for model, acc in sorted(per_model.items()):
        up = len(acc["th"])
        out[model] = Derating(
            model=model, machines=up + len(acc["down"]),
            hashrate_factor=sum(acc["th"]) / up if up else 0.0,
            power_factor=sum(acc["w"]) / len(acc["w"]) if acc["w"] else None,
            efficiency_factor=sum(acc["eff"]) / len(acc["eff"]) if acc["eff"] else None,
            machines_with_power=len(acc["w"]), machines_down=len(acc["down"]))
    return out


# ---------------------------------------------------------------- all of it

def calibrate(bench: str | Path | None = None, headers: str | Path | None = None,
              heights_json: str | Path | None = None, checkpoints: bool = False,
              fleet: str | Path | None = None, shared_data: str | Path | None = None,
              skip_unknown_models: bool = False,
              confidence: float = 0.95) -> Calibration:
    """Build a Calibration from whichever inputs are given (each part is optional).

    ``checkpoints=True`` reads ``headers/mainnet/mainnet_checkpoints.bin`` (and its JSON twin)
    from the shared data folder (``shared_data`` or ``hashcore.paths.find_shared_data()``).
    """
    from hashcore import netrate
    from hashcore.paths import find_shared_data

    if not (isinstance(confidence, (int, float)) and 0 < confidence < 1):
        raise InputError(f"confidence must be between 0 and 1, got {confidence!r}")
    host = host_from_bench(bench) if bench is not None else None
    network = None
    if headers is not None and checkpoints:
        raise InputError("give --headers or --network-from-checkpoints, not both")
    if checkpoints:
        base = Path(shared_data) if shared_data else find_shared_data()
        if base is None:
            raise InputError("--network-from-checkpoints: the shared header data was not found;"
                              " set HASHCORE_SHARED_DATA or pass --headers PATH")
        headers = base / "headers" / "mainnet" / "mainnet_checkpoints.bin"
    if headers is not None:
        network = netrate.estimate_from_files(headers, heights_json, confidence)
    derating = (fleet_derating(fleet, skip_unknown=skip_unknown_models)
                if fleet is not None else {})
    return Calibration(created_utc=utc_now(), host=host, network=network, fleet=derating)
