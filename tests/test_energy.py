"""hashcore.energy on a fake powercap tree: packages, DRAM, wraps, unreadable files, none at all.

The tests run as root, and root reads a chmod 000 file anyway, so unreadable counters are
simulated two ways: an opener that raises PermissionError for energy_uj (what a non-root
user gets since Linux 5.10), and a folder where the energy_uj file should be.
"""

from __future__ import annotations

import builtins
import time
from pathlib import Path

import pytest

from hashcore.energy import (
    ASSUMED_WATTS_PER_CORE,
    EnergyUnavailable,
    EstimateMeter,
    RaplMeter,
    StatedMeter,
    choose_meter,
    estimate_meter,
    find_tdp,
    find_zones,
)

RANGE_UJ = 262_143_328_850  # a real package's max_energy_range_uj


def _zone(folder: Path, name: str, energy: int, range_uj: int = RANGE_UJ,
          max_power_uw: int | None = None, long_term_uw: int | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "name").write_text(name + "\n")
    (folder / "energy_uj").write_text(f"{energy}\n")
    (folder / "max_energy_range_uj").write_text(f"{range_uj}\n")
    if long_term_uw is not None:
        (folder / "constraint_0_name").write_text("long_term\n")
        (folder / "constraint_0_power_limit_uw").write_text(f"{long_term_uw}\n")
        (folder / "constraint_1_name").write_text("short_term\n")
        (folder / "constraint_1_power_limit_uw").write_text(f"{2 * long_term_uw}\n")
    if max_power_uw is not None:
        (folder / "constraint_0_max_power_uw").write_text(f"{max_power_uw}\n")
    return folder


@pytest.fixture
def powercap(tmp_path) -> Path:
    """Two packages with core and DRAM subzones, a psys zone and an MMIO duplicate."""
    root = tmp_path / "powercap"
    (root / "intel-rapl").mkdir(parents=True)  # the control type folder: not a zone
    for i in (0, 1):
        pkg = _zone(root / f"intel-rapl:{i}", f"package-{i}", 1_000_000 * (i + 1),
                    long_term_uw=150_000_000)
        _zone(pkg / f"intel-rapl:{i}:0", "core", 5)
        _zone(pkg / f"intel-rapl:{i}:1", "dram", 10_000 * (i + 1))
    _zone(root / "intel-rapl:2", "psys", 7)
    _zone(root / "intel-rapl-mmio:0", "package-0", 9)
    return root


def _set(root: Path, zone: str, value: int) -> None:
    parts = zone.split(":")
    folder = root / zone if len(parts) == 2 else root / ":".join(parts[:2]) / zone
    (folder / "energy_uj").write_text(f"{value}\n")


def test_zones_are_packages_and_dram_only(powercap):
    names = [name for name, _ in find_zones(powercap)]
    assert names == ["intel-rapl:0 package-0", "intel-rapl:0:1 dram",
                     "intel-rapl:1 package-1", "intel-rapl:1:1 dram"]


def test_several_packages_and_dram_are_summed(powercap):
    with RaplMeter(powercap, sampler=False) as meter:
        token = meter.begin()
        _set(powercap, "intel-rapl:0", 1_000_000 + 3_000_000)   # +3 J
        _set(powercap, "intel-rapl:0:1", 10_000 + 500_000)       # +0.5 J
        _set(powercap, "intel-rapl:1", 2_000_000 + 2_000_000)   # +2 J
        _set(powercap, "intel-rapl:1:1", 20_000 + 250_000)       # +0.25 J
        _set(powercap, "intel-rapl:2", 999_999_999)              # psys: ignored
        reading = meter.end(token, 1.0)
    assert reading.source == "rapl" and reading.wraps == 0 and reading.suspect is None
    assert reading.zones == {"intel-rapl:0 package-0": 3.0, "intel-rapl:0:1 dram": 0.5,
                             "intel-rapl:1 package-1": 2.0, "intel-rapl:1:1 dram": 0.25}
    assert reading.joules == 5.75


def test_wrap_around_is_corrected_with_max_energy_range(tmp_path):
    root = tmp_path / "pc"
    _zone(root / "intel-rapl:0", "package-0", 900, range_uj=1000)
    meter = RaplMeter(root, sampler=False, assumed_max_w=1e-6)  # no gap counts as too long
    token = meter.begin()
    _set(root, "intel-rapl:0", 100)  # 900 -> 1000 (wrap) -> 100: 200 uJ
    reading = meter.end(token, 1.0)
    assert reading.joules == pytest.approx(200e-6) and reading.wraps == 1


def test_double_wrap_within_one_round_is_seen_by_the_sampler(tmp_path):
    root = tmp_path / "pc"
    _zone(root / "intel-rapl:0", "package-0", 900, range_uj=1000)
    meter = RaplMeter(root, sampler=False, assumed_max_w=1e-6)
    token = meter.begin()
    _set(root, "intel-rapl:0", 100)
    meter.sample()  # what the background sampler does between the two wraps
    _set(root, "intel-rapl:0", 50)
    meter.sample()
    _set(root, "intel-rapl:0", 800)
    reading = meter.end(token, 1.0)
    # (1000-900+100) + (1000-100+50) + (800-50) = 200 + 950 + 750
    assert reading.joules == pytest.approx(1900e-6)
    assert reading.wraps == 2
    assert reading.suspect is None


def test_a_gap_long_enough_to_hide_a_wrap_is_flagged(tmp_path):
    root = tmp_path / "pc"
    # 1000 uJ range at 1 W maximum: the counter can wrap every millisecond
    _zone(root / "intel-rapl:0", "package-0", 100, range_uj=1000, max_power_uw=1_000_000)
    now = [0.0]
    meter = RaplMeter(root, sampler=False, clock=lambda: now[0])
    token = meter.begin()
    now[0] += 0.0005
    assert meter.end(token, 0.0005).suspect is None
    token = meter.begin()
    now[0] += 2.0
    _set(root, "intel-rapl:0", 300)
    reading = meter.end(token, 2.0)
    assert reading.suspect and "may have been missed" in reading.suspect


def test_sampler_interval_follows_the_wrap_period(tmp_path):
    root = tmp_path / "pc"
    # 10 J range at 100 W: wraps every 0.1 s, so sample every 25 ms
    _zone(root / "intel-rapl:0", "package-0", 0, range_uj=10_000_000, max_power_uw=100_000_000)
    meter = RaplMeter(root, sampler=False)
    assert meter.interval_s == pytest.approx(0.025)


def test_background_sampler_reads_and_stops(powercap):
    reads = []

    def counting_open(path, *args, **kwargs):
        if str(path).endswith("energy_uj"):
            reads.append(time.monotonic())
        return builtins.open(path, *args, **kwargs)

    meter = RaplMeter(powercap, opener=counting_open, assumed_max_w=RANGE_UJ / 1e6 / 0.04)
    assert meter.interval_s == pytest.approx(0.01)
    start = len(reads)
    time.sleep(0.15)
    assert len(reads) - start >= 4 * 4  # several passes over the 4 zones
    meter.close()
    assert meter._thread is None
    settled = len(reads)
    time.sleep(0.05)
    assert len(reads) == settled


def test_unreadable_counters_give_a_clear_message_and_fall_back(powercap):
    def root_only(path, *args, **kwargs):
        if str(path).endswith("energy_uj"):
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, *args, **kwargs)

    with pytest.raises(EnergyUnavailable) as err:
        RaplMeter(powercap, opener=root_only, sampler=False)
    text = str(err.value)
    assert "intel-rapl:0" in text and "Permission denied" in text
    assert "root" in text and "chmod" in text and "udev" in text and "--watts" in text
    assert "\n" not in text
    meter = choose_meter(None, powercap, opener=root_only, sampler=False)
    assert isinstance(meter, EstimateMeter) and meter.source == "estimate"
    desc = meter.describe()
    assert desc["source"] == "estimate" and "chmod" in desc["note"]
    # the package limits are still readable: the estimate uses them (2 x 150 W)
    assert desc["tdp_w"] == 300.0 and "long-term power limit" in desc["tdp_origin"]


def test_a_folder_in_place_of_the_counter_is_unreadable(tmp_path):
    root = tmp_path / "pc"
    pkg = _zone(root / "intel-rapl:0", "package-0", 1)
    (pkg / "energy_uj").unlink()
    (pkg / "energy_uj").mkdir()
    with pytest.raises(EnergyUnavailable, match="cannot be read"):
        RaplMeter(root, sampler=False)


def test_no_powercap_at_all(tmp_path):
    with pytest.raises(EnergyUnavailable, match="no RAPL counters"):
        RaplMeter(tmp_path / "missing", sampler=False)
    meter = choose_meter(None, tmp_path / "missing")
    assert isinstance(meter, EstimateMeter)
    assert meter.tdp_w == ASSUMED_WATTS_PER_CORE * meter.cores
    assert "assumed" in meter.tdp_origin and "no RAPL counters" in meter.note
    assert find_tdp(tmp_path / "missing") is None


def test_readable_rapl_is_chosen_over_an_estimate(powercap):
    meter = choose_meter(None, powercap, sampler=False)
    assert isinstance(meter, RaplMeter) and meter.describe()["source"] == "rapl"


def test_stated_watts_are_used_exactly():
    meter = choose_meter(95.0)
    assert isinstance(meter, StatedMeter)
    for seconds in (0.1, 1.0, 2.5, 1 / 3):
        assert meter.end(meter.begin(), seconds).joules == 95.0 * seconds
    assert meter.end(None, 2.0).source == "stated"
    for bad in (0, -1.0, float("inf"), float("nan")):
        with pytest.raises(EnergyUnavailable):
            StatedMeter(bad)


def test_estimate_is_tdp_times_measured_load():
    cpu = iter([10.0, 11.5, 20.0, 25.0])
    meter = EstimateMeter(100.0, "test", cores=2, cpu_clock=lambda: next(cpu))
    reading = meter.end(meter.begin(), 1.0)  # 1.5 CPU-s over 1 s on 2 cores: 75 % load
    assert reading.joules == pytest.approx(75.0) and reading.source == "estimate"
    assert meter.end(meter.begin(), 1.0).joules == pytest.approx(100.0)  # load capped at 1
    assert meter.label() == "estimate" and meter.describe()["source"] == "estimate"


def test_estimate_without_a_readable_tdp_uses_the_stated_default(tmp_path):
    meter = estimate_meter(tmp_path / "none", cores=4)
    assert meter.tdp_w == 4 * ASSUMED_WATTS_PER_CORE
    assert f"{ASSUMED_WATTS_PER_CORE:g} W per core" in meter.tdp_origin


def test_a_counter_that_breaks_during_the_run_is_a_one_line_error(tmp_path):
    root = tmp_path / "pc"
    _zone(root / "intel-rapl:0", "package-0", 5)
    meter = RaplMeter(root, sampler=False)
    token = meter.begin()
    (root / "intel-rapl:0" / "energy_uj").write_text("garbage\n")
    with pytest.raises(EnergyUnavailable, match="could not be read during the run"):
        meter.end(token, 1.0)
