"""Read live ASIC miners with pyasic: measured and nominal rate, power, temperatures, boards.

One miner's trouble never stops the rest: every host is read in its own task, inside a
timeout, and any failure becomes that host's ``status="error"`` with a kind (``unreachable``,
``timeout``, ``closed``, ``invalid-json``, ``unidentified``, ``no-data``, ``error``) found by
a direct probe of the miner's RPC port. Power is ``None`` ("not reported") where the firmware
does not report it (stock Antminer); it is never taken as 0.

The CSV written by ``write_csv`` holds the miners that were read, one row each, with the
columns that ``hashcore.calibrate.fleet_derating`` reads (``host, model, hashrate_ths,
power_w``; ``power_w`` empty = not reported) and more; ``model`` is the catalogue's name
(``Antminer S19``, ``Whatsminer M30S+``).
"""

from __future__ import annotations

import asyncio
import csv
import io
import ipaddress
import json
import math
import socket
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from hashcore.errors import InputError
from hashcore.fleet import require_pyasic

RPC_PORT = 4028
DEFAULT_TIMEOUT_S = 5.0
MAX_SCAN_HOSTS = 65536
ERROR_KINDS = ("unreachable", "timeout", "closed", "invalid-json", "unidentified", "no-data",
               "error")
CSV_COLUMNS = ("host", "model", "hashrate_ths", "power_w", "nominal_hashrate_ths",
               "efficiency_j_per_th", "temp_avg_c", "temp_max_c", "boards_ok",
               "boards_expected", "chips", "expected_chips", "samples", "make",
               "pyasic_model", "firmware", "hostname")
_MAKES = {"antminer": "Antminer", "whatsminer": "Whatsminer", "avalonminer": "Avalon",
          "bitaxe": "Bitaxe"}
_DATA = ("hashrate", "expected_hashrate", "hashboards", "wattage", "fans", "errors",
         "hostname", "fw_ver", "uptime", "env_temp", "serial_number")


@dataclass
class BoardReading:
    """One hash board as last read; ``state`` is ok, degraded (chips missing), dead or missing."""

    slot: int
    state: str
    hashrate_ths: float | None = None
    temp_c: float | None = None
    chip_temp_c: float | None = None
    chips: int | None = None
    expected_chips: int | None = None


@dataclass
class MinerReading:
    """One host: either its figures (``status="ok"``) or why it could not be read."""

    host: str
    status: str = "ok"
    error_kind: str | None = None
    error: str | None = None
    make: str | None = None
    model: str | None = None          # catalogue name, e.g. "Antminer S19"
    pyasic_model: str | None = None   # as pyasic names it, e.g. "M30S+ VE40"
    firmware: str | None = None
    hostname: str | None = None
    hashrate_ths: float | None = None
    hashrate_min_ths: float | None = None
    hashrate_max_ths: float | None = None
    nominal_hashrate_ths: float | None = None
    power_w: float | None = None      # None = not reported by the firmware
    efficiency_j_per_th: float | None = None
    temp_avg_c: float | None = None
    temp_max_c: float | None = None
    boards: list[BoardReading] = field(default_factory=list)
    boards_ok: int | None = None
    boards_expected: int | None = None
    chips: int | None = None
    expected_chips: int | None = None
    fans_rpm: list[int] = field(default_factory=list)
    firmware_errors: list[str] = field(default_factory=list)
    uptime_s: int | None = None
    samples: int = 0
    samples_failed: int = 0
    sample_errors: list[str] = field(default_factory=list)
    hashrate_samples_ths: list[float] = field(default_factory=list)
    read_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def percent_of_nominal(self) -> float | None:
        if self.hashrate_ths is None or not self.nominal_hashrate_ths:
            return None
        return 100.0 * self.hashrate_ths / self.nominal_hashrate_ths

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["power_reported"] = self.power_w is not None
        out["percent_of_nominal"] = self.percent_of_nominal
        return out


@dataclass
class FleetReading:
    """Every host asked, in the order given, with how the reading was taken."""

    miners: list[MinerReading]
    started_utc: str
    samples: int
    watch_s: float
    timeout_s: float
    pyasic_version: str

    @property
    def ok(self) -> list[MinerReading]:
        return [m for m in self.miners if m.ok]

    @property
    def failed(self) -> list[MinerReading]:
        return [m for m in self.miners if not m.ok]

    def totals(self) -> dict[str, Any]:
        """Fleet sums over the miners read; power only over those that report it."""
        ok = self.ok
        powered = [m for m in ok if m.power_w is not None]
        hashrate = sum(m.hashrate_ths or 0.0 for m in ok)
        nominal = sum(m.nominal_hashrate_ths or 0.0 for m in ok)
        powered_rate = sum(m.hashrate_ths or 0.0 for m in powered)
        power = sum(m.power_w for m in powered) if powered else None
        return {"miners": len(self.miners), "read": len(ok), "failed": len(self.failed),
                "hashrate_ths": hashrate, "nominal_hashrate_ths": nominal,
                "percent_of_nominal": 100.0 * hashrate / nominal if nominal else None,
                "power_w": power, "power_reported_by": len(powered),
                "efficiency_j_per_th": (power / powered_rate
                                        if power is not None and powered_rate > 0 else None)}

    def to_dict(self) -> dict[str, Any]:
        return {"schema": "hashcore.fleet-read/1", "started_utc": self.started_utc,
                "samples": self.samples, "watch_s": self.watch_s, "timeout_s": self.timeout_s,
                "pyasic_version": self.pyasic_version, "totals": self.totals(),
                "miners": [m.to_dict() for m in self.miners]}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def csv_text(self) -> str:
        """The miners read, in the columns the calibration reads (failed hosts left out)."""
        buf = io.StringIO()
        buf.write(f"# hashcore fleet read {self.started_utc}: {self.samples} sample(s)"
                  f"{f' every {self.watch_s:g} s' if self.samples > 1 else ''}; "
                  f"power_w empty = not reported by the firmware; "
                  f"{len(self.failed)} host(s) failed and are not listed\n")
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for m in self.ok:
            row = m.to_dict()
            writer.writerow([_csv_cell(row[c]) for c in CSV_COLUMNS])
        return buf.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.1f}"
    return str(value)


# --------------------------------------------------------------------------- hosts

def parse_hosts(hosts: list[str]) -> list[str]:
    """Check the HOST arguments: IPv4/IPv6 addresses or host names, no duplicates."""
    if not hosts:
        raise InputError("give at least one miner address")
    out: list[str] = []
    for host in hosts:
        host = host.strip()
        if not host or any(c.isspace() for c in host) or "/" in host:
            raise InputError(f"miner address {host!r} is not an IP address or host name "
                             f"(use `fleet scan` for a network range)")
        if host not in out:
            out.append(host)
    return out


def parse_network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A scan range like ``10.0.0.0/24``; host bits are allowed (``10.0.0.7/24``)."""
    try:
        net = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError as exc:
        raise InputError(f"network {cidr!r} is not a CIDR range like 10.0.0.0/24: {exc}") from None
    if net.num_addresses > MAX_SCAN_HOSTS:
        raise InputError(f"network {cidr} has {net.num_addresses} addresses; scan at most "
                         f"{MAX_SCAN_HOSTS} (a /16) at once")
    return net


async def _resolve(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, RPC_PORT, type=socket.SOCK_STREAM)
    infos.sort(key=lambda info: info[0] != socket.AF_INET)  # miners are IPv4 in practice
    return infos[0][4][0]


# --------------------------------------------------------------------------- probing

class _HostFailure(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


async def probe_rpc(host: str, timeout_s: float, command: str = "summary") -> tuple[str, str]:
    """Ask the cgminer-style RPC port directly; (kind, what happened).

    kind is ``ok`` (a JSON answer), ``unreachable``, ``timeout``, ``closed`` or
    ``invalid-json``. Used to say precisely why pyasic could not read a host.
    """
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, RPC_PORT), timeout=timeout_s)
    except asyncio.TimeoutError:
        return "timeout", f"no TCP connection to port {RPC_PORT} within {timeout_s:g} s"
    except ConnectionRefusedError:
        return "unreachable", f"connection to port {RPC_PORT} refused (no miner API there)"
    except OSError as exc:
        return "unreachable", f"cannot connect to port {RPC_PORT}: {exc.strerror or exc}"
    data = b""
    try:
        writer.write(json.dumps({"command": command}).encode())
        await writer.drain()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise asyncio.TimeoutError
            chunk = await asyncio.wait_for(reader.read(65536), timeout=left)
            if not chunk:
                break
            data += chunk
    except asyncio.TimeoutError:
        if not data:
            return "timeout", (f"connected to port {RPC_PORT} but no answer within "
                               f"{timeout_s:g} s")
    except (ConnectionError, OSError) as exc:
        if not data:
            return "closed", f"port {RPC_PORT} dropped the connection ({exc.strerror or exc})"
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass
    if not data:
        return "closed", f"port {RPC_PORT} closed the connection without answering"
    text = data.rstrip(b"\x00")
    try:
        answer = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "invalid-json", (f"port {RPC_PORT} answered {len(data)} bytes that are not "
                                f"JSON: {data[:40]!r}")
    if not isinstance(answer, dict):
        return "invalid-json", f"port {RPC_PORT} answered JSON that is not an object"
    return "ok", f"port {RPC_PORT} answers JSON ({', '.join(list(answer)[:4])})"


async def _diagnose(host: str, timeout_s: float, what: str) -> _HostFailure:
    kind, message = await probe_rpc(host, timeout_s)
    if kind == "ok":
        return _HostFailure("unidentified" if what == "identify" else "no-data",
                            f"{message}, but pyasic could not "
                            f"{'identify the miner' if what == 'identify' else 'read its figures'}")
    return _HostFailure(kind, message)


# --------------------------------------------------------------------------- reading

def catalogue_name(make: str | None, model: str | None) -> str | None:
    """pyasic's make and model as the catalogue names them: ``Whatsminer M30S+`` for
    ("WhatsMiner", "M30S+ VE40"): the hardware revision suffix is not a different model."""
    if not model:
        return None
    brand = _MAKES.get((make or "").lower(), make or "")
    base = model.split(" (")[0].strip()
    if brand == "Whatsminer":
        parts = base.split(" ")
        if len(parts) > 1 and parts[-1][:1].upper() == "V":
            base = " ".join(parts[:-1])
    return f"{brand} {base}".strip()


def _ths(value: Any) -> float | None:
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    # pyasic's unit conversions leave float dust (98.39999999999999): 9 digits are plenty.
    return round(out, 9) if math.isfinite(out) else None


def _board(hb: Any) -> BoardReading:
    rate = _ths(hb.hashrate)
    chips = hb.chips
    expected = hb.expected_chips
    if hb.missing and not chips:
        state = "missing"
    elif not chips or not rate:
        state = "dead"
    elif expected and chips < expected:
        state = "degraded"
    else:
        state = "ok"
    alive = state in ("ok", "degraded")
    return BoardReading(slot=hb.slot, state=state, hashrate_ths=rate,
                        temp_c=hb.temp if alive and hb.temp else None,
                        chip_temp_c=hb.chip_temp if alive and hb.chip_temp else None,
                        chips=chips, expected_chips=expected)


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _summarize(reading: MinerReading, data: list[Any]) -> MinerReading:
    """Average the samples: rate and power as means, efficiency as mean power / mean rate."""
    last = data[-1]
    rates = [_ths(d.hashrate) for d in data]
    rates = [r for r in rates if r is not None]
    powers = [float(d.wattage) for d in data if d.wattage is not None]
    reading.make = _MAKES.get((last.make or "").lower(), last.make) or None
    reading.pyasic_model = last.model or None
    reading.model = catalogue_name(last.make, last.model)
    reading.firmware = last.firmware or None
    reading.hostname = last.hostname
    reading.hashrate_samples_ths = rates
    reading.hashrate_ths = _mean(rates)
    reading.hashrate_min_ths = min(rates) if rates else None
    reading.hashrate_max_ths = max(rates) if rates else None
    nominal = [_ths(d.expected_hashrate) for d in data]
    reading.nominal_hashrate_ths = _mean([n for n in nominal if n])
    # Power is averaged over the samples that reported it; if none did it stays None.
    reading.power_w = _mean(powers)
    if reading.power_w is not None and reading.hashrate_ths:
        reading.efficiency_j_per_th = reading.power_w / reading.hashrate_ths
    reading.boards = [_board(hb) for hb in last.hashboards]
    temps = [b.temp_c for d in data for b in map(_board, d.hashboards) if b.temp_c]
    chip_temps = [b.chip_temp_c for d in data for b in map(_board, d.hashboards) if b.chip_temp_c]
    reading.temp_avg_c = _mean(temps)
    reading.temp_max_c = max(chip_temps + temps) if chip_temps or temps else None
    reading.boards_expected = last.expected_hashboards
    reading.boards_ok = sum(b.state == "ok" for b in reading.boards)
    reading.chips = sum(b.chips or 0 for b in reading.boards) if reading.boards else None
    reading.expected_chips = last.expected_chips or None
    reading.fans_rpm = [int(f.speed) for f in last.fans if f.speed is not None]
    reading.firmware_errors = [str(getattr(e, "error_message", None) or e)
                               for e in last.errors]
    reading.uptime_s = last.uptime
    reading.samples = len(data)
    return reading


async def _read_host(host: str, timeout_s: float, watch_s: float, samples: int,
                     on_sample: Callable[[str, int], None] | None) -> MinerReading:
    import pyasic

    t0 = time.monotonic()
    reading = MinerReading(host=host)
    try:
        try:
            address = await asyncio.wait_for(_resolve(host), timeout=timeout_s)
        except (OSError, asyncio.TimeoutError) as exc:
            raise _HostFailure("unreachable", f"cannot resolve {host}: {exc}") from None
        try:
            miner = await asyncio.wait_for(pyasic.get_miner(address), timeout=timeout_s + 1)
        except asyncio.TimeoutError:
            miner = None
        except Exception:  # pyasic raises e.g. UnicodeDecodeError on binary garbage
            miner = None
        if miner is None or type(miner).__name__ == "UnknownMiner":
            raise await _diagnose(address, timeout_s, "identify")
        data = []
        first = time.monotonic()  # samples start every watch_s from here
        for i in range(samples):
            if i:
                await asyncio.sleep(max(0.0, first + i * watch_s - time.monotonic()))
            try:
                sample = await asyncio.wait_for(
                    miner.get_data(include=list(_DATA)), timeout=timeout_s)
            except asyncio.TimeoutError:
                reading.sample_errors.append(f"sample {i + 1}: no data within {timeout_s:g} s")
                continue
            except Exception as exc:
                reading.sample_errors.append(f"sample {i + 1}: {type(exc).__name__}: {exc}")
                continue
            if _ths(sample.hashrate) is None:
                reading.sample_errors.append(f"sample {i + 1}: no hash rate in the answer")
                continue
            data.append(sample)
            if on_sample:
                on_sample(host, i + 1)
        reading.samples_failed = samples - len(data)
        if not data:
            failure = await _diagnose(address, timeout_s, "read")
            if failure.kind == "no-data" and reading.sample_errors:
                failure.message += f" ({reading.sample_errors[-1]})"
            raise failure
        _summarize(reading, data)
    except _HostFailure as exc:
        reading.status, reading.error_kind, reading.error = "error", exc.kind, exc.message
    except Exception as exc:  # one host's surprise must not stop the others
        reading.status, reading.error_kind = "error", "error"
        reading.error = f"{type(exc).__name__}: {exc}"
    reading.read_s = time.monotonic() - t0
    return reading


def _configure_pyasic(timeout_s: float) -> str:
    pyasic = require_pyasic()
    from pyasic import settings

    whole = max(1, math.ceil(timeout_s))
    settings.update("factory_get_timeout", whole)
    settings.update("network_ping_timeout", whole)
    settings.update("network_scan_semaphore", 255)
    settings.update("get_data_retries", 1)
    try:
        from importlib import metadata
        return metadata.version("pyasic")
    except Exception:
        return getattr(pyasic, "__version__", "unknown")


def _check_timing(timeout_s: float, watch_s: float, samples: int) -> None:
    if not (isinstance(timeout_s, (int, float)) and math.isfinite(timeout_s) and timeout_s > 0):
        raise InputError(f"timeout must be a positive number of seconds, got {timeout_s!r}")
    if not (isinstance(watch_s, (int, float)) and math.isfinite(watch_s) and watch_s >= 0):
        raise InputError(f"watch interval must be >= 0 seconds, got {watch_s!r}")
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise InputError(f"samples must be a positive integer, got {samples!r}")


def _run(coro):
    """Run on a fresh loop whose stray-task errors (pyasic leaves some) are kept quiet.

    pyasic warns about partly supported models; those warnings are dropped here, once for
    the whole run (``catch_warnings`` per task would interleave and leak).
    """
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda _loop, _ctx: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return loop.run_until_complete(coro)
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()


def read_fleet(hosts: list[str], *, timeout_s: float = DEFAULT_TIMEOUT_S, watch_s: float = 0.0,
               samples: int = 1,
               on_sample: Callable[[str, int], None] | None = None) -> FleetReading:
    """Read every host concurrently; ``samples`` readings ``watch_s`` apart are averaged."""
    hosts = parse_hosts(hosts)
    _check_timing(timeout_s, watch_s, samples)
    version = _configure_pyasic(timeout_s)
    from hashcore.machine import now_utc

    started = now_utc()

    async def all_hosts() -> list[MinerReading]:
        return list(await asyncio.gather(
            *(_read_host(h, timeout_s, watch_s, samples, on_sample) for h in hosts)))

    miners = _run(all_hosts())
    return FleetReading(miners=miners, started_utc=started, samples=samples, watch_s=watch_s,
                        timeout_s=timeout_s, pyasic_version=version)


# --------------------------------------------------------------------------- scanning

@dataclass
class ScanHit:
    host: str
    make: str | None
    model: str | None
    pyasic_model: str | None
    firmware: str | None


def scan(cidr: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[ScanHit]:
    """Every miner pyasic finds in a CIDR range (its own probe: port 80, then 4028...)."""
    net = parse_network(cidr)
    _check_timing(timeout_s, 0.0, 1)
    _configure_pyasic(timeout_s)
    from pyasic.network import MinerNetwork

    async def go() -> list[Any]:
        return await MinerNetwork.from_subnet(str(net)).scan()

    found = _run(go())
    hits = []
    for miner in found:
        make = getattr(miner, "make", None)
        model = getattr(miner, "model", None)
        make_s = str(make) if make is not None else None
        model_s = str(model) if model is not None else None
        hits.append(ScanHit(host=str(miner.ip), make=_MAKES.get((make_s or "").lower(), make_s),
                            model=catalogue_name(make_s, model_s), pyasic_model=model_s,
                            firmware=str(getattr(miner, "firmware", "") or "") or None))
    hits.sort(key=lambda h: ipaddress.ip_address(h.host))
    return hits
