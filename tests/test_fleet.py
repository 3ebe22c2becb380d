"""hashcore fleet against simulated miners on 127.0.0.x: pyasic scans, identifies and reads
them; faulty miners are reported per host; the CSV feeds the calibration's derating.

Every address used is on 127.0.0.0/8.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import replace

import pytest

pytest.importorskip("pyasic", reason="the fleet extra (pyasic) is not installed")

from hashcore.cli import main  # noqa: E402
from hashcore.errors import BackendUnavailable, InputError  # noqa: E402
from hashcore.fleet.read import read_fleet, scan  # noqa: E402
from hashcore.fleet.simulator import FleetSimulator, MinerSpec, loopback_lock  # noqa: E402

TIMEOUT_S = 1.5
GOOD = [
    MinerSpec("127.0.0.1", "s19", hashrate_ths=93.1),
    MinerSpec("127.0.0.2", "s19", hashrate_ths=61.8, dead_boards=1),
    MinerSpec("127.0.0.3", "m30s+", hashrate_ths=98.4, power_w=3350.0),
    MinerSpec("127.0.0.4", "m30s+", hashrate_ths=101.2, power_w=3420.0, nominal_ths=102.0),
]
FAULTY = [
    MinerSpec("127.0.0.9", "s19", fault="close"),
    MinerSpec("127.0.0.10", "m30s+", power_w=3300.0, fault="garbage"),
    MinerSpec("127.0.0.11", "s19", fault="silent"),
]
NOBODY = "127.0.0.12"  # nothing listens here
BY_HOST = {s.host: s for s in GOOD + FAULTY}


def start(specs):
    """Start simulators; only a missing right to bind port 80 (not root) skips."""
    try:
        return FleetSimulator(specs).start()
    except InputError as exc:
        if "Permission denied" in str(exc):
            pytest.skip(f"simulated Antminers need port 80 on 127.0.0.x: {exc}")
        raise


@pytest.fixture(scope="module")
def fleet():
    with loopback_lock():
        sim = start(GOOD + FAULTY)
        try:
            yield sim
        finally:
            sim.stop()


@pytest.fixture(scope="module")
def reading(fleet):
    """One read of every miner (good, faulty, absent), shared by the tests below."""
    t0 = time.monotonic()
    result = read_fleet([s.host for s in GOOD + FAULTY] + [NOBODY], timeout_s=TIMEOUT_S)
    result.wall_s = time.monotonic() - t0
    return result


def test_scan_finds_the_four_miners(fleet):
    hits = scan("127.0.0.0/29", timeout_s=TIMEOUT_S)
    assert [h.host for h in hits] == ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"]
    assert [h.model for h in hits] == ["Antminer S19", "Antminer S19", "Whatsminer M30S+",
                                       "Whatsminer M30S+"]
    assert hits[2].pyasic_model.startswith("M30S+ VE40")


def test_read_returns_the_configured_figures(reading):
    by_host = {m.host: m for m in reading.miners}
    for spec in GOOD:
        m = by_host[spec.host]
        assert m.ok, (m.host, m.error)
        assert m.hashrate_ths == pytest.approx(spec.hashrate_ths, rel=1e-6)
        assert m.nominal_hashrate_ths == pytest.approx(spec.nominal, rel=1e-6)
        assert m.boards_expected == 3
        assert m.temp_avg_c is not None and m.temp_max_c >= m.temp_avg_c
        if spec.kind == "s19":
            assert m.model == "Antminer S19"
            assert m.power_w is None and m.efficiency_j_per_th is None  # not reported, not 0
        else:
            assert m.model == "Whatsminer M30S+"
            assert m.power_w == pytest.approx(spec.power_w)
            assert m.efficiency_j_per_th == pytest.approx(spec.power_w / spec.hashrate_ths)
    assert by_host["127.0.0.1"].boards_ok == 3
    dead = by_host["127.0.0.2"]
    assert dead.boards_ok == 2 and [b.state for b in dead.boards] == ["ok", "ok", "dead"]
    assert dead.chips == 2 * 76 and dead.expected_chips == 3 * 76
    assert any("lost" in e for e in dead.firmware_errors)


def test_faults_are_reported_per_host_and_the_rest_kept(reading):
    by_host = {m.host: m for m in reading.miners}
    assert [m.host for m in reading.miners] == [s.host for s in GOOD + FAULTY] + [NOBODY]
    kinds = {h: by_host[h].error_kind for h in ("127.0.0.9", "127.0.0.10", "127.0.0.11", NOBODY)}
    assert kinds == {"127.0.0.9": "closed", "127.0.0.10": "invalid-json",
                     "127.0.0.11": "timeout", NOBODY: "unreachable"}
    for h in kinds:
        assert by_host[h].status == "error" and by_host[h].hashrate_ths is None
        assert h not in reading.csv_text()
    assert len(reading.ok) == 4
    # hosts are read at once: one silent miner costs about two timeouts, not one per host
    assert reading.wall_s < 6 * TIMEOUT_S + 5


def test_totals_sum_power_only_where_reported(reading):
    t = reading.totals()
    assert t["read"] == 4 and t["failed"] == 4
    assert t["hashrate_ths"] == pytest.approx(sum(s.hashrate_ths for s in GOOD), rel=1e-6)
    assert t["power_w"] == pytest.approx(3350.0 + 3420.0)
    assert t["power_reported_by"] == 2
    assert t["efficiency_j_per_th"] == pytest.approx((3350.0 + 3420.0) / (98.4 + 101.2))


def test_json_is_complete_and_strict(reading):
    doc = json.loads(reading.to_json())
    assert doc["schema"] == "hashcore.fleet-read/1"
    miners = {m["host"]: m for m in doc["miners"]}
    assert miners["127.0.0.1"]["power_w"] is None
    assert miners["127.0.0.1"]["power_reported"] is False
    assert miners["127.0.0.3"]["power_reported"] is True
    assert miners["127.0.0.11"]["error_kind"] == "timeout"


def test_watch_averages_the_samples(fleet):
    miner = next(m for m in fleet.miners if m.spec.host == "127.0.0.3")
    rates = [90.0, 96.0, 99.0]
    powers = [3200.0, 3300.0, 3400.0]

    def change(host: str, n: int) -> None:  # after sample n, the miner reports new figures
        if n < len(rates):
            miner.firmware.spec = replace(miner.spec, hashrate_ths=rates[n], power_w=powers[n])

    miner.firmware.spec = replace(miner.spec, hashrate_ths=rates[0], power_w=powers[0])
    try:
        result = read_fleet(["127.0.0.3"], timeout_s=TIMEOUT_S, watch_s=0.2, samples=3,
                            on_sample=change)
    finally:
        miner.firmware.spec = miner.spec
    m = result.miners[0]
    assert m.samples == 3 and m.samples_failed == 0
    assert m.hashrate_samples_ths == pytest.approx(rates)
    assert m.hashrate_ths == pytest.approx(sum(rates) / 3)
    assert (m.hashrate_min_ths, m.hashrate_max_ths) == pytest.approx((90.0, 99.0))
    assert m.power_w == pytest.approx(sum(powers) / 3)
    assert m.efficiency_j_per_th == pytest.approx(sum(powers) / sum(rates))


def _catalogue_with_m30s_plus():
    """The catalogue, plus (if it lacks one) a test-only M30S+ row at the simulator's
    nominal 100 TH/s and 3400 W: the derating arithmetic is what is tested here."""
    from hashcore import asics
    from hashcore.errors import InputError

    rows = list(asics.load_catalogue())
    try:
        asics.lookup("Whatsminer M30S+", rows)
    except InputError:
        rows.append(replace(rows[0], maker="MicroBT", model="Whatsminer M30S+",
                            hashrate_ths=100.0, power_w=3400.0, efficiency_j_per_th=34.0,
                            source="test row (hashcore tests)", note="test only"))
    return rows


def test_csv_feeds_the_calibration_derating(reading, tmp_path):
    calibrate = pytest.importorskip("hashcore.calibrate")
    from hashcore import asics

    path = tmp_path / "fleet.csv"
    path.write_text(reading.csv_text(), encoding="utf-8")
    header = [ln for ln in path.read_text().splitlines() if not ln.startswith("#")][0]
    assert header.split(",")[:4] == ["host", "model", "hashrate_ths", "power_w"]
    rows = _catalogue_with_m30s_plus()
    derating = calibrate.fleet_derating(path, catalogue=rows)
    s19 = asics.lookup("Antminer S19", rows)
    m30 = asics.lookup("Whatsminer M30S+", rows)
    assert set(derating) == {s19.model, m30.model}
    d = derating[s19.model]
    assert d.machines == 2 and d.machines_with_power == 0
    assert d.power_factor is None and d.efficiency_factor is None
    assert d.hashrate_factor == pytest.approx((93.1 + 61.8) / 2 / s19.hashrate_ths, rel=1e-5)
    w = derating[m30.model]
    assert w.machines == 2 and w.machines_with_power == 2
    assert w.hashrate_factor == pytest.approx((98.4 + 101.2) / 2 / m30.hashrate_ths, rel=1e-5)
    assert w.power_factor == pytest.approx((3350 + 3420) / 2 / m30.power_w, rel=1e-5)
    eff = ((3350 / 98.4) + (3420 / 101.2)) / 2 / m30.efficiency_j_per_th
    assert w.efficiency_factor == pytest.approx(eff, rel=1e-4)


def test_cli_read_json_csv_and_exit_code(fleet, tmp_path, capsys):
    csv_path = tmp_path / "f.csv"
    rc = main(["fleet", "read", "127.0.0.1", "127.0.0.3", "127.0.0.9", "--timeout",
               str(TIMEOUT_S), "--json", "-", "--csv", str(csv_path)])
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert rc == 1  # one host failed
    assert [m["status"] for m in doc["miners"]] == ["ok", "ok", "error"]
    lines = [ln for ln in csv_path.read_text().splitlines() if not ln.startswith("#")]
    assert len(lines) == 3 and lines[1].startswith("127.0.0.1,Antminer S19,93.1,,")


def test_cli_scan_table(fleet, capsys):
    rc = main(["fleet", "scan", "127.0.0.0/29", "--timeout", str(TIMEOUT_S)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "miners found in 127.0.0.0/29: 4" in out
    assert out.count("Antminer S19") == 2


@pytest.mark.parametrize("argv,message", [
    (["fleet", "scan", "127.0.0.0/33"], "not a CIDR range"),
    (["fleet", "scan", "127.0.0.0/8"], "scan at most"),
    (["fleet", "read", "127.0.0.1", "--samples", "3"], "needs --watch"),
    (["fleet", "read", "127.0.0.1", "--timeout", "0"], "--timeout must be"),
    (["fleet", "read", "127.0.0.0/24"], "use `fleet scan`"),
])
def test_cli_bad_input_is_one_line_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_without_pyasic_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyasic", None)
    with pytest.raises(BackendUnavailable, match=r"hashcore\[fleet\]"):
        read_fleet(["127.0.0.1"], timeout_s=1)


def test_cli_demo_scans_and_reads_its_simulated_fleet(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")  # rich wraps table cells at its width
    rc = main(["fleet", "demo", "--base", "127.0.0.41", "--faults", "--timeout", "1"])
    captured = capsys.readouterr()
    if rc == 2 and "Permission denied" in captured.err:
        pytest.skip(f"simulated Antminers need port 80 on 127.0.0.x: {captured.err.strip()}")
    out = captured.out
    assert rc == 0, captured.err
    assert "$ hashcore fleet scan 127.0.0.40/29" in out
    assert "miners found in 127.0.0.40/29: 4" in out
    for kind in ("closed", "invalid-json", "timeout"):
        assert f"FAILED ({kind})" in out
    assert "total (4 of 7)" in out


def test_demo_refuses_a_base_outside_loopback(capsys):
    assert main(["fleet", "demo", "--base", "192.168.1.1"]) == 2
    assert "outside 127.0.0.0/8" in capsys.readouterr().err


def test_json_answering_stranger_is_unidentified():
    """Something on port 4028 that answers cgminer-style JSON but names no known firmware."""
    import socketserver
    import threading

    class Generic(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.recv(4096)
            self.request.sendall(b'{"STATUS":[{"STATUS":"S","Msg":"Summary"}],'
                                 b'"SUMMARY":[{"Elapsed":5}],"id":1}\x00')

    socketserver.TCPServer.allow_reuse_address = True
    with loopback_lock(), socketserver.ThreadingTCPServer(("127.0.0.51", 4028), Generic) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        try:
            m = read_fleet(["127.0.0.51"], timeout_s=TIMEOUT_S).miners[0]
        finally:
            srv.shutdown()
    assert m.status == "error" and m.error_kind == "unidentified"
    assert "answers JSON" in m.error
