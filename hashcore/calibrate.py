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
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hashcore.errors import ReadError

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
    """

    model: str
    machines: int
    hashrate_factor: float
    power_factor: float | None
    efficiency_factor: float | None
    machines_with_power: int = 0


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
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ReadError(str(path), "open", exc.strerror or str(exc)) from None
        return cls.from_json(text, str(path))


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
               "efficiency_factor": (_FLOAT, True), "machines_with_power": (_INT, False)},
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
