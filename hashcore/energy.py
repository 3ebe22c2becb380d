"""Joules spent by a benchmark round: RAPL counters, a stated wattage, or a labelled estimate.

Three sources, never mixed silently:

- ``rapl``: the kernel's powercap counters (``/sys/class/powercap/intel-rapl:N/energy_uj`` for
  every package, plus DRAM subzones where present). They wrap at ``max_energy_range_uj``; a
  background sampler reads them often enough that every wrap is seen (two wraps inside one
  round are counted, not lost), and a gap too long to rule out a missed wrap is flagged.
  They measure the whole package, so other work on the machine is counted too.
- ``stated``: a wattage the user read off a wall meter (``--watts 95``), used exactly as
  given: joules = watts x seconds.
- ``estimate``: the CPU's TDP (the RAPL long-term power limit where readable, else an
  assumed figure per core) scaled by this process's measured load (CPU time / wall time /
  cores). Always labelled ``estimate``.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hashcore.errors import HashcoreError

DEFAULT_POWERCAP = Path("/sys/class/powercap")
# An assumption, not a measurement: used only when no TDP can be read, and always labelled.
ASSUMED_WATTS_PER_CORE = 10.0
# Sizing the sampler when a zone states no maximum power: faster than any CPU package draws.
ASSUMED_MAX_ZONE_W = 500.0
SAMPLER_MAX_INTERVAL_S = 1.0
SAMPLER_MIN_INTERVAL_S = 0.01

_PACKAGE_RE = re.compile(r"^intel-rapl:\d+$")
_SUBZONE_RE = re.compile(r"^intel-rapl:\d+:\d+$")

UNREADABLE_ADVICE = (
    "energy_uj has been readable by root only since Linux 5.10 (the PLATYPUS fix, "
    "CVE-2020-8694, Nov 2020): run as root, or allow reading until reboot with "
    "`sudo chmod a+r /sys/class/powercap/intel-rapl:*/energy_uj "
    "/sys/class/powercap/intel-rapl:*/intel-rapl:*/energy_uj`, or for good with a udev rule "
    "(see docs/bench.md), or give a wall-meter reading with --watts W")


class EnergyUnavailable(HashcoreError):
    """RAPL cannot be used here; the message says why and how to fix it."""


@dataclass(frozen=True)
class EnergyReading:
    """Energy over one measured interval."""

    joules: float
    seconds: float
    source: str  # "rapl" | "stated" | "estimate"
    wraps: int = 0  # counter wrap-arounds seen and corrected inside the interval
    suspect: str | None = None  # why the figure may be wrong (a possibly missed wrap)
    zones: dict[str, float] = field(default_factory=dict)  # joules per RAPL zone


Opener = Callable[..., object]


class Meter:
    """Brackets a round: ``token = m.begin()`` ... ``m.end(token, seconds)``."""

    source = "none"

    def begin(self) -> object:
        raise NotImplementedError

    def end(self, token: object, seconds: float) -> EnergyReading:
        raise NotImplementedError

    def describe(self) -> dict:
        """What the JSON and the table say about where the joules come from."""
        return {"source": self.source}

    def label(self) -> str:
        return self.source

    def close(self) -> None:
        """Stop any background work (idempotent)."""

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class StatedMeter(Meter):
    """A wattage from a wall meter, used as given: joules = watts x seconds."""

    source = "stated"

    def __init__(self, watts: float):
        if not isinstance(watts, (int, float)) or isinstance(watts, bool) or not (
                math.isfinite(watts) and watts > 0):
            raise EnergyUnavailable(f"--watts must be a positive number, got {watts!r}")
        self.watts = float(watts)

    def begin(self) -> object:
        return None

    def end(self, token: object, seconds: float) -> EnergyReading:
        return EnergyReading(joules=self.watts * seconds, seconds=seconds, source=self.source)

    def describe(self) -> dict:
        return {"source": self.source, "watts": self.watts,
                "note": "wattage stated by the user (--watts), not measured by hashcore"}

    def label(self) -> str:
        return f"stated {self.watts:g} W"


class EstimateMeter(Meter):
    """TDP x measured load: a rough figure, labelled ``estimate`` everywhere it appears."""

    source = "estimate"

    def __init__(self, tdp_w: float, tdp_origin: str, cores: int,
                 cpu_clock: Callable[[], float] = time.process_time):
        self.tdp_w = float(tdp_w)
        self.tdp_origin = tdp_origin
        self.cores = max(1, int(cores))
        self._cpu_clock = cpu_clock
        self.note: str | None = None

    def begin(self) -> object:
        return self._cpu_clock()

    def end(self, token: object, seconds: float) -> EnergyReading:
        cpu_s = max(0.0, self._cpu_clock() - float(token))  # type: ignore[arg-type]
        load = min(1.0, cpu_s / (seconds * self.cores)) if seconds > 0 else 0.0
        return EnergyReading(joules=self.tdp_w * load * seconds, seconds=seconds,
                             source=self.source)

    def describe(self) -> dict:
        out = {"source": self.source, "tdp_w": self.tdp_w, "tdp_origin": self.tdp_origin,
               "cores": self.cores,
               "method": "TDP x (process CPU seconds / wall seconds / cores)"}
        if self.note:
            out["note"] = self.note
        return out

    def label(self) -> str:
        return "estimate"


@dataclass
class _Zone:
    name: str
    energy_path: Path
    range_uj: int
    max_gap_s: float  # the longest gap between reads that cannot hide a second wrap
    last_raw: int = 0
    last_t: float = 0.0
    total_uj: int = 0
    wraps: int = 0
    long_gaps: list[float] = field(default_factory=list)


def _read_int(opener: Opener, path: Path) -> int:
    with opener(path) as fh:  # type: ignore[attr-defined]
        text = fh.read()
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    return int(text.strip())


def _read_text(opener: Opener, path: Path) -> str | None:
    try:
        with opener(path) as fh:  # type: ignore[attr-defined]
            text = fh.read()
    except (OSError, ValueError):
        return None
    return (text.decode("ascii", "replace") if isinstance(text, bytes) else text).strip()


def find_zones(root: Path | str = DEFAULT_POWERCAP, opener: Opener = open
               ) -> list[tuple[str, Path]]:
    """(name, folder) of every package zone and every DRAM subzone under ``root``.

    Core and uncore subzones are left out (their energy is inside the package's); so is
    ``psys`` (the whole platform, which would count the packages twice).
    """
    root = Path(root)
    if not root.is_dir():
        return []
    zones = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if not _PACKAGE_RE.match(entry.name):
            continue
        name = _read_text(opener, entry / "name") or entry.name
        if name == "psys":
            continue
        zones.append((f"{entry.name} {name}", entry))
        for sub in sorted(entry.iterdir(), key=lambda p: p.name):
            if _SUBZONE_RE.match(sub.name) and sub.is_dir():
                if (_read_text(opener, sub / "name") or "") == "dram":
                    zones.append((f"{sub.name} dram", sub))
    return zones


def _max_power_w(opener: Opener, folder: Path) -> float | None:
    for i in range(4):
        value = _read_text(opener, folder / f"constraint_{i}_max_power_uw")
        if value and value.isdigit() and int(value) > 0:
            return int(value) / 1e6
    return None


class RaplMeter(Meter):
    """Package (and DRAM) energy from powercap, wrap-corrected, sampled in the background."""

    source = "rapl"

    def __init__(self, root: Path | str = DEFAULT_POWERCAP, *, opener: Opener = open,
                 clock: Callable[[], float] = time.monotonic, sampler: bool = True,
                 assumed_max_w: float = ASSUMED_MAX_ZONE_W):
        self.root = Path(root)
        self._opener = opener
        self._clock = clock
        self._lock = threading.Lock()
        found = find_zones(self.root, opener)
        if not found:
            raise EnergyUnavailable(f"no RAPL counters under {self.root} "
                                    f"(no intel-rapl:N zones)")
        self.zones: list[_Zone] = []
        now = clock()
        for name, folder in found:
            energy_path = folder / "energy_uj"
            try:
                range_uj = _read_int(opener, folder / "max_energy_range_uj")
                raw = _read_int(opener, energy_path)
            except OSError as exc:
                what = exc.strerror or type(exc).__name__
                raise EnergyUnavailable(
                    f"RAPL counters exist under {folder} but cannot be read ({what}); "
                    f"{UNREADABLE_ADVICE}") from exc
            except ValueError as exc:
                raise EnergyUnavailable(f"{folder}: energy counter is not an integer: "
                                        f"{exc}") from exc
            if range_uj <= 0:
                raise EnergyUnavailable(f"{folder}/max_energy_range_uj is {range_uj}, "
                                        f"not a positive range")
            max_w = _max_power_w(opener, folder) or assumed_max_w
            self.zones.append(_Zone(name=name, energy_path=energy_path, range_uj=range_uj,
                                    max_gap_s=range_uj / 1e6 / max_w, last_raw=raw,
                                    last_t=now))
        shortest = min(z.max_gap_s for z in self.zones)
        self.interval_s = min(SAMPLER_MAX_INTERVAL_S,
                              max(SAMPLER_MIN_INTERVAL_S, shortest / 4))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if sampler:
            self._thread = threading.Thread(target=self._run, name="hashcore-rapl",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample()
            except EnergyUnavailable:
                return  # the next begin/end read reports the failure

    def sample(self) -> None:
        """Read every counter once and fold the change (wrap-corrected) into its total."""
        with self._lock:
            now = self._clock()
            for zone in self.zones:
                try:
                    raw = _read_int(self._opener, zone.energy_path)
                except (OSError, ValueError) as exc:
                    raise EnergyUnavailable(f"{zone.energy_path} could not be read during "
                                            f"the run: {exc}") from None
                gap = now - zone.last_t
                if gap > zone.max_gap_s:
                    zone.long_gaps.append(gap)
                if raw >= zone.last_raw:
                    zone.total_uj += raw - zone.last_raw
                else:  # the counter passed max_energy_range_uj and restarted from 0
                    zone.total_uj += zone.range_uj - zone.last_raw + raw
                    zone.wraps += 1
                zone.last_raw, zone.last_t = raw, now

    def begin(self) -> object:
        self.sample()
        with self._lock:
            return [(z.total_uj, z.wraps, len(z.long_gaps)) for z in self.zones]

    def end(self, token: object, seconds: float) -> EnergyReading:
        self.sample()
        zones: dict[str, float] = {}
        wraps = 0
        gaps: list[float] = []
        with self._lock:
            for zone, (total0, wraps0, gaps0) in zip(self.zones, token, strict=True):  # type: ignore
                zones[zone.name] = (zone.total_uj - total0) / 1e6
                wraps += zone.wraps - wraps0
                gaps.extend(zone.long_gaps[gaps0:])
        suspect = None
        if gaps:
            suspect = (f"RAPL counters went {max(gaps):.3g} s unread, longer than one wrap "
                       f"period at full power: a wrap may have been missed")
        return EnergyReading(joules=math.fsum(zones.values()), seconds=seconds,
                             source=self.source, wraps=wraps, suspect=suspect, zones=zones)

    def describe(self) -> dict:
        return {"source": self.source, "root": str(self.root),
                "zones": [z.name for z in self.zones], "sampler_interval_s": self.interval_s,
                "note": "whole-package energy: other work on the machine is included"}

    def label(self) -> str:
        return "rapl"

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
            self._thread = None


def find_tdp(root: Path | str = DEFAULT_POWERCAP, opener: Opener = open
             ) -> tuple[float, str] | None:
    """The packages' summed long-term power limit (PL1, about the TDP), if readable."""
    total_w = 0.0
    used = []
    for name, folder in find_zones(root, opener):
        if "dram" in name.split()[-1:]:
            continue
        best = None
        for i in range(4):
            if _read_text(opener, folder / f"constraint_{i}_name") == "long_term":
                for key in ("max_power_uw", "power_limit_uw"):
                    value = _read_text(opener, folder / f"constraint_{i}_{key}")
                    if value and value.isdigit() and int(value) > 0:
                        best = int(value) / 1e6
                        break
                break
        if best is None:
            return None
        total_w += best
        used.append(folder.name)
    if not used:
        return None
    return total_w, f"RAPL long-term power limit of {', '.join(used)}"


def estimate_meter(root: Path | str = DEFAULT_POWERCAP, opener: Opener = open,
                   cores: int | None = None) -> EstimateMeter:
    """An estimate from the TDP if it can be read, else from an assumed wattage per core."""
    cores = cores or os.cpu_count() or 1
    tdp = find_tdp(root, opener)
    if tdp is not None:
        return EstimateMeter(tdp[0], tdp[1], cores)
    return EstimateMeter(ASSUMED_WATTS_PER_CORE * cores,
                         f"assumed {ASSUMED_WATTS_PER_CORE:g} W per core x {cores} cores "
                         f"(no TDP readable)", cores)


def choose_meter(watts: float | None = None, root: Path | str = DEFAULT_POWERCAP,
                 opener: Opener = open, sampler: bool = True) -> Meter:
    """Stated watts if given, else RAPL if readable, else an estimate (with the reason)."""
    if watts is not None:
        return StatedMeter(watts)
    try:
        return RaplMeter(root, opener=opener, sampler=sampler)
    except EnergyUnavailable as exc:
        meter = estimate_meter(root, opener)
        meter.note = f"{exc}; joules are an estimate"
        return meter
