"""Calibration: JSON round trip, this host from a bench JSON, the network from real headers,
fleet derating from a CSV, and clear errors for bad input."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np
import pytest

from hashcore import asics, netrate
from hashcore import calibrate as cal
from hashcore.cli import main
from hashcore.errors import InputError, ReadError

DATA = Path(__file__).parent / "data"
FLEET = DATA / "fleet_sample.csv"


# ---------------------------------------------------------------- JSON round trip

def _sample_calibration() -> cal.Calibration:
    period = cal.PeriodEstimate(1, 2016, "2009-01-09T02:54:25Z", "2009-02-12T19:16:30Z",
                                0x1D00FFFF, 1.0, 2016, 600.0, 7.1e6, 6.8e6, 7.4e6)
    return cal.Calibration(
        created_utc="2026-11-29T00:00:00Z",
        host=cal.HostCalibration(2e6, 5e5, 6e7, "c:avx2(8)", 2, "rapl", 30.0, "scan[avx2-t2]"),
        network=cal.NetworkEstimate(2016, "2009-02-12T19:16:30Z", 7.1e6, 6.8e6, 7.4e6, 0.95,
                                    1.0, [period], "test"),
        fleet={"Antminer S21": cal.Derating("Antminer S21", 3, 0.96, None, None, 0, 1)})


def test_json_round_trip(tmp_path):
    c = _sample_calibration()
    assert cal.Calibration.from_json(c.to_json()) == c
    path = c.save(tmp_path / "c.json")
    assert cal.Calibration.load(path) == c
    empty = cal.Calibration(created_utc="2026-11-29T00:00:00Z")
    assert cal.Calibration.from_json(empty.to_json()) == empty


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.update(schema="other/1"), "'schema'"),
    (lambda d: d["host"].update(j_per_th="fast"), "'host.j_per_th'"),
    (lambda d: d["host"].update(energy_source="guess"), "'host.energy_source'"),
    (lambda d: d["network"]["history"][0].pop("blocks"), "'network.history[0].blocks'"),
    (lambda d: d["fleet"]["Antminer S21"].update(machines=True), "'fleet.Antminer S21.machines'"),
    (lambda d: d.update(fleet=[]), "'fleet'"),
])
def test_from_json_names_the_bad_field(mutate, field):
    data = json.loads(_sample_calibration().to_json())
    mutate(data)
    with pytest.raises(ReadError) as exc:
        cal.Calibration.from_json(json.dumps(data), "c.json")
    assert str(exc.value).startswith(f"c.json: field {field}")


def test_load_errors(tmp_path):
    with pytest.raises(ReadError, match="open"):
        cal.Calibration.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{\n oops")
    with pytest.raises(ReadError, match="bad.json: line 2"):
        cal.Calibration.load(bad)


# ---------------------------------------------------------------- this host

def _bench(*entries: dict) -> dict:
    return {"machine_info": {}, "commit_info": {}, "datetime": "2026-11-29T00:00:00",
            "version": "test", "benchmarks": list(entries)}


def _entry(op: str, path: str, hashes: float, joules: float | None, seconds: float,
           energy: str = "stated", threads: int = 2, baseline: bool = False) -> dict:
    return {"name": f"{op}[{path}-t{threads}]", "stats": {"total": seconds, "mean": 1.0},
            "extra_info": {"operation": op, "path": path, "threads": threads,
                           "hashes": hashes, "joules": joules, "seconds": seconds,
                           "energy_source": energy, "baseline": baseline}}


def test_host_from_bench_by_hand(tmp_path):
    # 6e9 header hashes in 100 s on 3000 J: 2e6 H/J = 5e5 J/TH, 6e7 H/s, 30 W.
    data = _bench(_entry("scan", "avx2", 6e9, 3000.0, 100.0),
                  _entry("scan", "hashlib", 1e9, 3000.0, 100.0, baseline=True),
                  _entry("sha256d", "avx2", 9e9, 1000.0, 100.0),
                  _entry("headers", "avx2", 8e9, 3000.0, 100.0),
                  _entry("scan", "scalar", 1e9, None, 100.0, energy=""))
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(data))
    host = cal.host_from_bench(path)
    assert host.hashes_per_joule == pytest.approx(2e6)
    assert host.j_per_th == pytest.approx(5e5)
    assert host.rate_hs == pytest.approx(6e7)
    assert host.power_w == pytest.approx(30.0)
    assert (host.path, host.threads, host.energy_source) == ("avx2", 2, "stated")

    s21 = asics.lookup("Antminer S21")
    row = next(r for r in cal.compare_host(host) if r.model == "Antminer S21")
    assert row.efficiency_ratio == pytest.approx(5e5 / 17.5)
    assert row.hosts_per_asic == pytest.approx(s21.hashrate_ths * 1e12 / 6e7)
    assert row.host_power_for_1phs_w == pytest.approx(5e5 * 1000)  # 500 MW
    assert row.asic_power_for_1phs_w == pytest.approx(17.5 * 1000)
    ratios = [r.asic_j_per_th for r in cal.compare_host(host)]
    assert ratios == sorted(ratios)


def test_host_uses_headers_when_no_scan():
    host = cal.host_from_bench(_bench(_entry("headers", "avx2", 8e9, 4000.0, 80.0, "rapl")))
    assert host.hashes_per_joule == pytest.approx(2e6) and host.rate_hs == pytest.approx(1e8)


@pytest.mark.parametrize("data, where", [
    ({"benchmarks": "x"}, "top level"),
    (_bench(_entry("sha256d", "avx2", 1e9, 1.0, 1.0)), "benchmarks: no benchmark records"),
    (_bench(_entry("scan", "avx2", 1e9, -1.0, 1.0)), "benchmarks[0].extra_info.joules"),
    (_bench(_entry("scan", "avx2", 1e9, 1.0, 1.0, energy="guess")),
     "benchmarks[0].extra_info.energy_source"),
    (_bench(_entry("scan", "avx2", 1e9, 1.0, 1.0, threads=0)), "benchmarks[0].extra_info.threads"),
])
def test_bad_bench_json(data, where):
    with pytest.raises(ReadError) as exc:
        cal.host_from_bench(data)
    assert str(exc.value).startswith(f"<bench>: {where}")


# ---------------------------------------------------------------- the network

def _fields(buf: bytes, i: int) -> tuple[int, int]:
    """(time, bits) of header i, read by offset: the independent slow path."""
    return struct.unpack_from("<II", buf, 80 * i + 68)


def _difficulty_by_hand(bits: int) -> float:
    exponent, mantissa = bits >> 24, bits & 0xFFFFFF
    target = mantissa * 256 ** (exponent - 3)
    return (0xFFFF * 2 ** 208) / target


def test_first_full_period_of_2024_by_hand(headers_dir):
    path = headers_dir / "mainnet" / "mainnet_822528_830592.bin"
    buf = path.read_bytes()
    # 822528 opens a period; its last block is 824543 (index 2015): 2015 intervals.
    t0, bits0 = _fields(buf, 0)
    t1, bits1 = _fields(buf, 2015)
    assert bits0 == bits1
    mean_interval = (t1 - t0) / 2015
    expected = _difficulty_by_hand(bits0) * 2 ** 32 / mean_interval

    est = netrate.estimate_from_files(path)
    first = est.history[0]
    assert (first.start_height, first.end_height, first.blocks) == (822529, 824543, 2015)
    assert first.bits == bits0 and first.difficulty == pytest.approx(_difficulty_by_hand(bits0))
    assert first.hashrate_hs == pytest.approx(expected, rel=1e-9)
    assert first.hashrate_low_hs < expected < first.hashrate_high_hs
    assert 0.04 < 1 - first.hashrate_low_hs / expected < 0.05
    assert 0.04 < first.hashrate_high_hs / expected - 1 < 0.05
    # Later periods hold all 2016 blocks; the tip is the last full period.
    assert [p.blocks for p in est.history[1:]] == [2016, 2016, 2016]
    assert est.tip_height == 830592 and est.hashrate_hs == est.history[-1].hashrate_hs
    assert 3e20 < est.hashrate_hs < 1e21  # hundreds of EH/s in 2024


def test_gamma_interval_covers_at_its_confidence():
    # Simulated exponential block times at a known rate: the 90% interval should cover the
    # truth in about 90% of windows (seeded; binomial sd at n=2000 is 0.7%).
    rng = np.random.default_rng(20261129)
    n, trials, true_rate = 2016, 2000, 1.0 / 600.0
    lo, hi = netrate.gamma_interval(n, 0.90)
    elapsed = rng.exponential(1 / true_rate, size=(trials, n)).sum(axis=1)
    est = n / elapsed
    covered = np.mean((est * lo <= true_rate) & (true_rate <= est * hi))
    assert 0.87 < covered < 0.93
    assert lo < 1 < hi and netrate.gamma_interval(100)[0] < lo


def test_window_across_a_retarget_weights_each_difficulty():
    # Blocks 4033..6048: 2015 at the first bits, the last one at the next period's bits.
    b1, b2 = 0x1D00FFFF, 0x1C7FFFFF  # difficulty 1 and about 2
    est = netrate.estimate_window(4032, 0, b1, 6048, 2016 * 600, b2)
    work = (2015 * _difficulty_by_hand(b1) + _difficulty_by_hand(b2)) * 2 ** 32
    assert est.hashrate_hs == pytest.approx(work / (2016 * 600))
    with pytest.raises(InputError, match="more than two retarget periods"):
        netrate.estimate_window(2016, 0, b1, 8064, 10 ** 6, b1)
    with pytest.raises(InputError, match="timestamps do not advance"):
        netrate.estimate_window(1, 100, b1, 2, 100, b1)


def test_checkpoints_draw_fifteen_years(headers_dir):
    est = netrate.estimate_from_files(headers_dir / "mainnet" / "mainnet_checkpoints.bin")
    hist = est.history
    assert len(hist) == 435
    assert hist[0].end_time_utc.startswith("2009") and hist[-1].end_time_utc >= "2025"
    # Difficulty 1 and ~10-minute blocks in 2009: a few MH/s.
    assert 1e6 < hist[0].hashrate_hs < 1e8
    rates = np.array([p.hashrate_hs for p in hist])
    assert rates[-1] > 1e12 * rates[0]
    slope = np.polyfit(np.arange(rates.size), np.log(rates), 1)[0]
    assert slope > 0
    # Year-on-year, the median period rose in most years.
    years = np.array([int(p.end_time_utc[:4]) for p in hist])
    medians = [np.median(rates[years == y]) for y in range(2009, 2025)]
    rises = sum(b > a for a, b in zip(medians, medians[1:], strict=False))
    assert rises >= 12
    assert est.tip_height == 878976
    buf = (headers_dir / "mainnet" / "mainnet_checkpoints.bin").read_bytes()
    tip_bits = _fields(buf, 435)[1]
    assert est.difficulty == pytest.approx(_difficulty_by_hand(tip_bits), rel=1e-12)
    # The last window: 2015 blocks at the previous period's bits, one at the tip's.
    prev_bits = _fields(buf, 434)[1]
    assert hist[-1].bits == prev_bits
    assert hist[-1].difficulty == pytest.approx(
        (2015 * _difficulty_by_hand(prev_bits) + _difficulty_by_hand(tip_bits)) / 2016)


def test_heights_and_file_errors(tmp_path, headers_dir):
    buf = (headers_dir / "mainnet" / "mainnet_0_9999.bin").read_bytes()[:80 * 10]
    with pytest.raises(InputError, match="3 heights for 10 headers"):
        netrate.estimate_network(buf, [1, 2, 3])
    with pytest.raises(InputError, match="index 2 has 1 after 5"):
        netrate.estimate_network(buf[:240], [0, 5, 1])
    odd = tmp_path / "odd.bin"
    odd.write_bytes(buf + b"\x00" * 7)
    with pytest.raises(ReadError, match=r"odd.bin: byte 800: truncated header: 7 bytes left over"):
        netrate.estimate_from_files(odd, tmp_path / "x.json")
    plain = tmp_path / "plain.bin"
    plain.write_bytes(buf)
    with pytest.raises(ReadError, match="no heights file plain.json"):
        netrate.estimate_from_files(plain)
    (tmp_path / "plain.json").write_text(json.dumps({"heights": [1, 2]}))
    with pytest.raises(ReadError, match="'heights': 2 heights for 10 headers"):
        netrate.estimate_from_files(plain)
    (tmp_path / "plain.json").write_text(json.dumps({"first_height": 0}))
    est = netrate.estimate_from_files(plain)
    assert est.history[0].blocks == 9  # too short for MIN_WINDOW_BLOCKS, kept as the only one


# ---------------------------------------------------------------- a fleet

def test_fleet_derating_by_hand():
    d = cal.fleet_derating(FLEET)
    s21, m60s = d["Antminer S21"], d["Whatsminer M60S"]
    assert (s21.machines, s21.machines_down, s21.machines_with_power) == (3, 1, 1)
    assert s21.hashrate_factor == pytest.approx((190 / 200 + 196 / 200) / 2)
    assert s21.power_factor == pytest.approx(3420 / 3500)
    assert s21.efficiency_factor == pytest.approx((3420 / 190) / 17.5)
    spec = asics.lookup("Whatsminer M60S")  # the nominal figures come from the catalogue
    assert (m60s.machines, m60s.machines_with_power) == (2, 2)
    assert m60s.hashrate_factor == pytest.approx((180 + 184) / 2 / spec.hashrate_ths)
    assert m60s.power_factor == pytest.approx((3300 + 3280) / 2 / spec.power_w)
    assert m60s.efficiency_factor == pytest.approx(
        ((3300 / 180) + (3280 / 184)) / 2 / spec.efficiency_j_per_th)


@pytest.mark.parametrize("body, where, what", [
    ("h1,Antminer S22,100,3000\n", "line 2", "field 'model': unknown ASIC model 'Antminer S22'"),
    ("h1,Antminer S21,fast,3000\n", "line 2", "field 'hashrate_ths': 'fast' is not a number"),
    ("h1,Antminer S21,-1,3000\n", "line 2", "field 'hashrate_ths': -1.0 is negative"),
    ("h1,Antminer S21,100,0\n", "line 2", "field 'power_w': 0 must be > 0"),
    ("h1,Antminer S21,100\n", "line 2", "3 fields, expected 4"),
    (",Antminer S21,100,3000\n", "line 2", "field 'host' is empty"),
    ("", "end of file", "no machines"),
])
def test_fleet_errors(tmp_path, body, where, what):
    path = tmp_path / "fleet.csv"
    path.write_text("host,model,hashrate_ths,power_w\n" + body)
    with pytest.raises(ReadError) as exc:
        cal.fleet_derating(path)
    assert str(exc.value) == f"{path}: {where}: {what}" or \
        str(exc.value).startswith(f"{path}: {where}: {what}")


def test_fleet_skip_unknown_models_keeps_the_rest(tmp_path):
    path = tmp_path / "fleet.csv"
    path.write_text("host,model,hashrate_ths,power_w\n"
                    "h1,Antminer S22,100,3000\nh2,Antminer S22,90,3000\n"
                    "h3,Antminer S21,190,3420\n")
    with pytest.warns(RuntimeWarning, match="line 2: model 'Antminer S22' is not in") as seen:
        out = cal.fleet_derating(path, skip_unknown=True)
    assert len(seen) == 1  # one warning per model, not per machine
    assert list(out) == ["Antminer S21"] and out["Antminer S21"].machines == 1
    only_unknown = tmp_path / "only_unknown.csv"
    only_unknown.write_text("host,model,hashrate_ths,power_w\nh1,Antminer S22,100,3000\n")
    with pytest.raises(ReadError, match="no machines"), pytest.warns(RuntimeWarning):
        cal.fleet_derating(only_unknown, skip_unknown=True)


def test_fleet_missing_column(tmp_path):
    path = tmp_path / "fleet.csv"
    path.write_text("host,model,hashrate_ths\nh1,Antminer S21,100\n")
    with pytest.raises(ReadError, match=r"line 1: missing column\(s\) power_w"):
        cal.fleet_derating(path)


# ---------------------------------------------------------------- the command

def test_cli_end_to_end(tmp_path, capsys, headers_dir):
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(_bench(_entry("scan", "avx2", 6e9, 3000.0, 100.0))))
    out = tmp_path / "calibration.json"
    argv = ["calibrate", "--bench", str(bench), "--network-from-checkpoints",
            "--fleet", str(FLEET), "--out", str(out), "--json"]
    assert main(argv) == 0
    printed = cal.Calibration.from_json(capsys.readouterr().out)
    saved = cal.Calibration.load(out)
    assert printed == saved
    assert saved.host is not None and saved.network is not None and len(saved.fleet) == 2
    assert math.isclose(saved.host.j_per_th, 5e5)
    assert main(["calibrate", "--headers", str(headers_dir / "mainnet" /
                                               "mainnet_822528_830592.bin")]) == 0
    assert "EH/s" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["calibrate"], "nothing to calibrate"),
    (["calibrate", "--heights-json", "x.json"], "--heights-json needs --headers"),
    (["calibrate", "--fleet", "/nonexistent/fleet.csv"], "/nonexistent/fleet.csv: open"),
])
def test_cli_errors_are_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_checkpoint_window_agrees_with_the_contiguous_run(headers_dir):
    # Two independent readings of January 2024: the checkpoint window 822529..824544 and the
    # contiguous period 822529..824543 (one block fewer) must agree well inside their interval.
    ckpt = netrate.estimate_from_files(headers_dir / "mainnet" / "mainnet_checkpoints.bin")
    window = next(p for p in ckpt.history if p.end_height == 824544)
    run = netrate.estimate_from_files(headers_dir / "mainnet" / "mainnet_822528_830592.bin")
    period = run.history[0]
    assert window.hashrate_hs == pytest.approx(period.hashrate_hs, rel=0.005)


def test_binary_and_bom_files(tmp_path):
    binary = tmp_path / "fleet.csv"
    binary.write_bytes(b"host,model,hashrate_ths,power_w\n\xff\xfe\n")
    with pytest.raises(ReadError, match=r"fleet.csv: byte 32: not UTF-8 text"):
        cal.fleet_derating(binary)
    bom = tmp_path / "bom.csv"
    bom.write_text("host,model,hashrate_ths,power_w\nh1,Antminer S21,200,3500\n",
                   encoding="utf-8-sig")
    assert cal.fleet_derating(bom)["Antminer S21"].hashrate_factor == pytest.approx(1.0)
    with pytest.raises(ReadError, match="not UTF-8"):
        cal.host_from_bench(binary)
    with pytest.raises(ReadError, match="not UTF-8"):
        cal.Calibration.load(binary)


@pytest.mark.parametrize("kwargs, message", [
    ({"confidence": 1.5, "checkpoints": True}, "confidence must be between 0 and 1"),
    ({"headers": "x.bin", "checkpoints": True}, "not both"),
])
def test_calibrate_argument_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        cal.calibrate(**kwargs)
