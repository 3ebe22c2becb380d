"""The miner simulator at the wire: cgminer/bmminer JSON over TCP, HTTP digest, faults.

Plain sockets here (no pyasic), so these check the protocol itself; test_fleet checks that
pyasic identifies and reads it. Every address is on 127.0.0.0/8.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from hashcore.errors import InputError
from hashcore.fleet.simulator import (
    GARBAGE,
    REALM,
    RPC_PORT,
    WEB_PORT,
    FleetSimulator,
    MinerSpec,
    loopback_lock,
    parse_spec,
)

S19, WM, DEAD = "127.0.0.21", "127.0.0.22", "127.0.0.23"
CLOSE, GARB, SILENT = "127.0.0.24", "127.0.0.25", "127.0.0.26"


@pytest.fixture(scope="module")
def sim():
    specs = [MinerSpec(S19, "s19", hashrate_ths=90.5, nominal_ths=95.0),
             MinerSpec(WM, "m30s+", hashrate_ths=99.0, power_w=3380.0),
             MinerSpec(DEAD, "s19", hashrate_ths=60.0, dead_boards=1),
             MinerSpec(CLOSE, "s19", fault="close"),
             MinerSpec(GARB, "m30s+", power_w=3300, fault="garbage"),
             MinerSpec(SILENT, "s19", fault="silent")]
    with loopback_lock():
        try:
            s = FleetSimulator(specs).start()
        except InputError as exc:  # only a missing right to bind port 80 (not root) skips
            if "Permission denied" in str(exc):
                pytest.skip(f"simulated Antminers need port 80 on 127.0.0.x: {exc}")
            raise
        try:
            yield s
        finally:
            s.stop()


def raw(host: str, payload: bytes, port: int = RPC_PORT, timeout: float = 3.0) -> bytes:
    """Send, then read to EOF the way cgminer clients do."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        out = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return out
            out += chunk


def rpc(host: str, command: str) -> dict:
    data = raw(host, json.dumps({"command": command}).encode())
    assert data.endswith(b"\x00"), "cgminer answers end with a NUL byte"
    return json.loads(data[:-1])


def test_summary_has_status_section_and_trailing_nul(sim):
    answer = rpc(S19, "summary")
    assert answer["STATUS"][0]["STATUS"] == "S"
    assert answer["SUMMARY"][0]["GHS 5s"] == pytest.approx(90500.0)


def test_joined_commands_answer_each_section(sim):
    answer = rpc(S19, "summary+pools+stats")
    assert set(answer) >= {"summary", "pools", "stats"}
    for part in ("summary", "pools", "stats"):
        assert answer[part][0]["STATUS"][0]["STATUS"] == "S"
    assert answer["stats"][0]["STATS"][1]["total_rateideal"] == pytest.approx(95000.0)


def test_unknown_command_and_bad_json_are_status_errors(sim):
    assert rpc(S19, "nonsense")["STATUS"][0]["STATUS"] == "E"
    data = raw(S19, b'{"command": ')
    bad = json.loads(data.rstrip(b"\x00"))
    assert bad["STATUS"][0]["STATUS"] == "E" and bad["STATUS"][0]["Code"] == 23


def test_stock_antminer_reports_no_power_anywhere(sim):
    for command in ("summary", "stats", "devs", "version", "pools"):
        text = json.dumps(rpc(S19, command)).lower()
        assert "power" not in text and "watt" not in text, command


def test_whatsminer_reports_power_and_btminer_identity(sim):
    summary = rpc(WM, "summary")["SUMMARY"][0]
    assert summary["Power"] == 3380
    assert summary["MHS 1m"] == pytest.approx(99.0e6)
    details = rpc(WM, "devdetails")
    assert details["STATUS"][0]["Description"] == "btminer"
    assert details["DEVDETAILS"][0]["Model"] == "M30S+_VE40"
    version = rpc(WM, "get_version")
    assert version["STATUS"] == "S" and version["Msg"]["fw_ver"].startswith("2023")


def test_dead_board_reports_zero_chips(sim):
    stats = rpc(DEAD, "stats")["STATS"][1]
    assert [stats[f"chain_acn{i}"] for i in (1, 2, 3)] == [76, 76, 0]
    assert float(stats["chain_rate3"]) == 0.0
    assert float(stats["chain_rate1"]) + float(stats["chain_rate2"]) == pytest.approx(60000.0)


def test_web_asks_for_antminer_digest_and_serves_cgi(sim):
    httpx = pytest.importorskip("httpx")
    r = httpx.get(f"http://{S19}:{WEB_PORT}/", timeout=3)
    assert r.status_code == 401
    assert f'realm="{REALM}"' in r.headers["www-authenticate"]
    ok = httpx.get(f"http://{S19}/cgi-bin/get_system_info.cgi",
                   auth=httpx.DigestAuth("root", "root"), timeout=3)
    assert ok.status_code == 200 and ok.json()["minertype"] == "Antminer S19"
    wrong = httpx.get(f"http://{S19}/cgi-bin/get_system_info.cgi",
                      auth=httpx.DigestAuth("root", "wrong"), timeout=3)
    assert wrong.status_code == 401
    stats = httpx.get(f"http://{S19}/cgi-bin/stats.cgi", auth=httpx.DigestAuth("root", "root"),
                      timeout=3).json()
    assert [c["asic_num"] for c in stats["STATS"][0]["chain"]] == [76, 76, 76]


def test_whatsminer_has_no_web_interface(sim):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((WM, WEB_PORT), timeout=2).close()


def test_fault_close_sends_nothing(sim):
    assert raw(CLOSE, b'{"command": "summary"}') == b""


def test_fault_garbage_is_not_json(sim):
    data = raw(GARB, b'{"command": "summary"}')
    assert data == GARBAGE
    with pytest.raises(ValueError):
        json.loads(data.rstrip(b"\x00").decode("utf-8"))


def test_fault_silent_never_answers(sim):
    with socket.create_connection((SILENT, RPC_PORT), timeout=3) as sock:
        sock.sendall(b'{"command": "summary"}')
        sock.settimeout(0.7)
        t0 = time.monotonic()
        with pytest.raises(socket.timeout):
            sock.recv(100)
        assert time.monotonic() - t0 >= 0.6


def test_only_loopback_and_honest_specs():
    with pytest.raises(InputError, match="outside 127.0.0.0/8"):
        MinerSpec("10.0.0.5", "s19")
    with pytest.raises(InputError, match="outside 127.0.0.0/8"):
        MinerSpec("::1", "s19")
    with pytest.raises(InputError, match="reports no power"):
        MinerSpec("127.0.0.30", "s19", power_w=3250)
    with pytest.raises(InputError, match="unknown fault"):
        MinerSpec("127.0.0.30", "s19", fault="explode")
    with pytest.raises(InputError, match="share an address"):
        FleetSimulator([MinerSpec("127.0.0.30"), MinerSpec("127.0.0.30")])


def test_parse_spec():
    spec = parse_spec("127.0.0.31=m30s+,hashrate_ths=98.5,power_w=3350,fault=silent")
    assert (spec.host, spec.kind, spec.hashrate_ths, spec.power_w, spec.fault) == (
        "127.0.0.31", "m30s+", 98.5, 3350.0, "silent")
    for bad in ("127.0.0.31", "127.0.0.31=s19,hashrate_ths=fast", "127.0.0.31=s19,color=red",
                "127.0.0.31=cpu"):
        with pytest.raises(InputError):
            parse_spec(bad)


def test_bind_failure_is_a_clear_error(sim):
    with pytest.raises(InputError, match="could not listen"):
        FleetSimulator([MinerSpec(S19, "s19")]).start()
