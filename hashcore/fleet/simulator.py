"""Simulated ASIC miners that speak the cgminer/bmminer API, for tests and ``fleet demo``.

Each simulated miner binds its own loopback address (pyasic uses fixed ports: the RPC API
on 4028, the web interface on 80), and answers closely enough to the firmware it imitates
that ``pyasic.get_miner`` identifies it and ``get_data`` reads it:

* ``s19``: an Antminer S19 on stock bmminer firmware. The RPC API answers ``version``,
  ``summary``, ``stats``, ``pools``, ``devs``, ``devdetails`` (and joined ones like
  ``summary+pools``); the web interface on port 80 asks for HTTP digest auth with the realm
  ``antMiner Configuration`` (which is how pyasic recognises an Antminer) and serves the
  ``/cgi-bin/*.cgi`` JSON. Like the real firmware it reports no power anywhere.
* ``m30s+``: a Whatsminer M30S+ on btminer (API v2): ``devdetails`` says ``btminer``, and
  ``summary`` carries ``Power`` in watts. No web interface.

Faults (``fault=``), applied to every port of that miner: ``close`` (accept, read the
request, close without a byte), ``garbage`` (answer bytes that are not JSON), ``silent``
(accept, read, never answer). Only loopback addresses are accepted: a simulator must never
listen on, or be mistaken for, a real network.

Run one from a shell: ``python -m hashcore.fleet.simulator 127.0.0.1=s19 127.0.0.2=m30s+``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import json
import os
import secrets
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from hashcore.errors import InputError

RPC_PORT = 4028
WEB_PORT = 80
FAULTS = ("close", "garbage", "silent")
GARBAGE = b"\x15\x03\x01 <html>this is not JSON {\"STATUS\": [ \xff\xfe"
WEB_USER, WEB_PASSWORD = "root", "root"  # Antminer factory defaults, which pyasic tries
REALM = "antMiner Configuration"


@dataclass(frozen=True)
class Kind:
    """What one firmware family looks like from the network."""

    name: str
    make: str
    type_name: str          # what the firmware calls itself ("Antminer S19", "M30S+_VE40")
    nominal_ths: float      # what the firmware reports as its ideal / factory rate by default
    boards: int
    chips_per_board: int
    fans: int
    reports_power: bool


# Defaults for the simulated firmware only (what a miner says about itself), not a catalogue:
# S19 95 TH/s and M30S+ 100 TH/s are the makers' nameplate figures (Bitmain S19 launch, 2020;
# MicroBT M30S+ launch, 2020); the board and chip counts are pyasic 0.79's for these models
# (S19: 3 x 76 chips; M30S+ VE40: 3 x 156 chips).
KINDS: dict[str, Kind] = {
    "s19": Kind("s19", "Antminer", "Antminer S19", 95.0, 3, 76, 4, False),
    "m30s+": Kind("m30s+", "Whatsminer", "M30S+_VE40", 100.0, 3, 156, 2, True),
}


@dataclass(frozen=True)
class MinerSpec:
    """One simulated miner: where it listens, what it reports, how it misbehaves.

    ``hashrate_ths`` is the measured rate the miner reports; ``nominal_ths`` what it reports
    as ideal (None: the kind's default); ``power_w`` is reported only by kinds that report
    power (an S19 with ``power_w`` set is an error: stock Antminers never report it).
    ``dead_boards`` boards report zero chips and zero rate (board health).
    """

    host: str
    kind: str = "s19"
    hashrate_ths: float = 95.0
    nominal_ths: float | None = None
    power_w: float | None = None
    board_temp_c: float = 62.0
    chip_temp_c: float = 76.0
    dead_boards: int = 0
    fault: str | None = None
    hostname: str = ""

    def __post_init__(self) -> None:
        check_loopback(self.host)
        if self.kind not in KINDS:
            raise InputError(f"unknown simulated miner kind {self.kind!r} "
                             f"(choose from {', '.join(KINDS)})")
        kind = KINDS[self.kind]
        if self.power_w is not None and not kind.reports_power:
            raise InputError(f"{kind.type_name} firmware reports no power; leave power_w unset")
        if self.fault is not None and self.fault not in FAULTS:
            raise InputError(f"unknown fault {self.fault!r} (choose from {', '.join(FAULTS)})")
        if not 0 <= self.dead_boards <= kind.boards:
            raise InputError(f"dead_boards must be within 0..{kind.boards}")
        if self.hashrate_ths < 0 or (self.power_w is not None and self.power_w < 0):
            raise InputError("hashrate_ths and power_w must not be negative")

    @property
    def spec(self) -> Kind:
        return KINDS[self.kind]

    @property
    def nominal(self) -> float:
        return self.spec.nominal_ths if self.nominal_ths is None else self.nominal_ths


def check_loopback(host: str) -> str:
    """The simulator only ever binds 127.0.0.0/8."""
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise InputError(f"simulated miner address {host!r} is not an IP address") from None
    if addr.version != 4 or not addr.is_loopback:
        raise InputError(f"simulated miner address {host} is outside 127.0.0.0/8")
    return host


def parse_spec(text: str) -> MinerSpec:
    """``HOST=KIND[,key=value...]``, e.g. ``127.0.0.2=m30s+,hashrate_ths=98,power_w=3350``."""
    host, sep, rest = text.partition("=")
    if not sep:
        raise InputError(f"simulated miner {text!r}: expected HOST=KIND[,key=value...]")
    kind, *pairs = rest.split(",")
    kwargs: dict[str, Any] = {}
    numeric = {"hashrate_ths", "nominal_ths", "power_w", "board_temp_c", "chip_temp_c"}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise InputError(f"simulated miner {text!r}: {pair!r} is not key=value")
        try:
            if key in numeric:
                kwargs[key] = float(value)
            elif key == "dead_boards":
                kwargs[key] = int(value)
            elif key in ("fault", "hostname"):
                kwargs[key] = value
            else:
                raise InputError(f"simulated miner {text!r}: unknown setting {key!r}")
        except ValueError:
            raise InputError(f"simulated miner {text!r}: {key}={value!r} is not a number") from None
    return MinerSpec(host=host, kind=kind, **kwargs)


# --------------------------------------------------------------------------- API answers

def _status(code: int, msg: str, description: str, ok: bool = True) -> list[dict]:
    return [{"STATUS": "S" if ok else "E", "When": int(time.time()), "Code": code,
             "Msg": msg, "Description": description}]


class _Firmware:
    """The numbers behind every answer of one miner (shared by its RPC and web servers)."""

    def __init__(self, spec: MinerSpec):
        self.spec = spec
        self.kind = spec.spec
        self.started = time.time() - 3600 * 5  # five hours of uptime
        octets = [int(x) for x in spec.host.split(".")]
        self.mac = "02:48:43:" + ":".join(f"{o:02X}" for o in octets[1:])
        self.serial = "SIM" + "".join(f"{o:03d}" for o in octets[1:])
        self.hostname = spec.hostname or f"sim-{self.kind.name.replace('+', 'plus')}-{octets[3]}"

    # --- per board figures
    def boards(self) -> list[dict]:
        alive = self.kind.boards - self.spec.dead_boards
        out = []
        for i in range(self.kind.boards):
            dead = i >= alive
            out.append({
                "index": i,
                "rate_ghs": 0.0 if dead else self.spec.hashrate_ths * 1000.0 / alive,
                "ideal_ghs": self.spec.nominal * 1000.0 / self.kind.boards,
                "chips": 0 if dead else self.kind.chips_per_board,
                "temp": 0.0 if dead else self.spec.board_temp_c + i,
                "chip_temp": 0.0 if dead else self.spec.chip_temp_c + i,
                "sn": f"{self.serial}B{i}",
            })
        return out

    @property
    def elapsed(self) -> int:
        return int(time.time() - self.started)

    # --- RPC
    def rpc(self, command: str, parameter: Any = None) -> dict:
        """One command, or a joined one (``summary+pools``) answered section by section."""
        if "+" in command:
            out: dict[str, Any] = {}
            for part in command.split("+"):
                out[part] = [self.rpc(part, parameter)]
            out["id"] = 1
            return out
        handlers = self._handlers()
        handler = handlers.get(command)
        if handler is None:
            return {"STATUS": _status(14, "Invalid command", self._description(), ok=False),
                    "id": 1}
        return handler()

    def _description(self) -> str:
        return "bmminer 1.0.0" if self.kind.name == "s19" else "btminer"

    def _handlers(self) -> dict:
        if self.kind.name == "s19":
            return {"version": self._am_version, "summary": self._am_summary,
                    "stats": self._am_stats, "pools": self._pools, "devs": self._am_devs,
                    "devdetails": self._am_devdetails}
        return {"version": self._wm_version, "summary": self._wm_summary,
                "devs": self._wm_devs, "devdetails": self._wm_devdetails, "pools": self._pools,
                "get_version": self._wm_get_version, "get_miner_info": self._wm_miner_info,
                "get_psu": self._wm_psu, "get_error_code": self._wm_error_code,
                "status": self._wm_status}

    def _pools(self) -> dict:
        return {"STATUS": _status(7, "1 Pool(s)", self._description()),
                "POOLS": [{"POOL": 0, "URL": "stratum+tcp://pool.invalid:3333",
                           "Status": "Alive", "Priority": 0, "Accepted": 1200, "Rejected": 3,
                           "Get Failures": 0, "Remote Failures": 0,
                           "User": f"hashcore.{self.hostname}", "Stratum Active": True}],
                "id": 1}

    # Antminer (bmminer)
    def _am_version(self) -> dict:
        return {"STATUS": _status(22, "BMMiner versions", self._description()),
                "VERSION": [{"BMMiner": "1.0.0", "API": "3.1", "Miner": "uart_trans.1.3",
                             "CompileTime": "Sat Jan 1 00:00:00 CST 2022",
                             "Type": self.kind.type_name}], "id": 1}

    def _am_summary(self) -> dict:
        ghs = self.spec.hashrate_ths * 1000.0
        return {"STATUS": _status(11, "Summary", self._description()),
                "SUMMARY": [{"Elapsed": self.elapsed, "GHS 5s": round(ghs, 2),
                             "GHS av": round(ghs, 2), "GHS 30m": round(ghs, 2),
                             "Found Blocks": 0, "Accepted": 1200, "Rejected": 3,
                             "Hardware Errors": 12, "Best Share": 123456789}], "id": 1}

    def _am_stats(self) -> dict:
        boards = self.boards()
        detail: dict[str, Any] = {
            "STATS": 0, "ID": "BC50", "Elapsed": self.elapsed,
            "GHS 5s": round(self.spec.hashrate_ths * 1000.0, 2),
            "GHS av": round(self.spec.hashrate_ths * 1000.0, 2),
            "rate_unit": "GH", "total_rateideal": round(self.spec.nominal * 1000.0, 2),
            "miner_count": self.kind.boards, "fan_num": self.kind.fans,
            "temp_num": self.kind.boards, "total_acn": sum(b["chips"] for b in boards),
        }
        for f in range(self.kind.fans):
            detail[f"fan{f + 1}"] = 5400 + 60 * f
        for b in boards:
            n = b["index"] + 1
            detail[f"chain_acn{n}"] = b["chips"]
            detail[f"chain_acs{n}"] = " ".join(["oooooooo"] * (b["chips"] // 8))
            detail[f"chain_rate{n}"] = f"{b['rate_ghs']:.2f}"
            detail[f"chain_rateideal{n}"] = round(b["ideal_ghs"], 2)
            detail[f"temp{n}"] = b["temp"]
            detail[f"temp2_{n}"] = b["chip_temp"]
        return {"STATUS": _status(70, "CGMiner stats", self._description()),
                "STATS": [{"BMMiner": "1.0.0", "Miner": "uart_trans.1.3",
                           "CompileTime": "Sat Jan 1 00:00:00 CST 2022",
                           "Type": self.kind.type_name}, detail], "id": 1}

    def _am_devs(self) -> dict:
        return {"STATUS": _status(9, f"{self.kind.boards} ASC(s)", self._description()),
                "DEVS": [{"ASC": b["index"], "Name": "BTM_SOC", "Enabled": "Y",
                          "Status": "Dead" if b["chips"] == 0 else "Alive",
                          "Temperature": b["temp"], "MHS 5s": b["rate_ghs"] * 1000.0}
                         for b in self.boards()], "id": 1}

    def _am_devdetails(self) -> dict:
        return {"STATUS": _status(69, "Device Details", self._description()),
                "DEVDETAILS": [{"DEVDETAILS": b["index"], "Name": "BTM_SOC", "ID": b["index"],
                                "Driver": "bitmain", "Model": self.kind.type_name}
                               for b in self.boards()], "id": 1}

    # Whatsminer (btminer API v2)
    def _wm_version(self) -> dict:
        return self._wm_get_version()

    def _wm_summary(self) -> dict:
        mhs = self.spec.hashrate_ths * 1e6
        boards = [b for b in self.boards() if b["chips"]]
        power = -1 if self.spec.power_w is None else int(round(self.spec.power_w))
        return {"STATUS": _status(11, "Summary", "btminer"),
                "SUMMARY": [{"Elapsed": self.elapsed, "MHS av": round(mhs, 2),
                             "MHS 5s": round(mhs, 2), "MHS 1m": round(mhs, 2),
                             "MHS 15m": round(mhs, 2), "Accepted": 1200, "Rejected": 3,
                             "Temperature": self.spec.board_temp_c,
                             "Fan Speed In": 4800, "Fan Speed Out": 4860, "Power": power,
                             "Power Rate": 0, "Env Temp": 25.0, "Power Mode": "Normal",
                             "Factory GHS": int(round(self.spec.nominal * 1000.0)),
                             "Power Limit": 3600, "Chip Temp Min": self.spec.chip_temp_c,
                             "Chip Temp Max": max((b["chip_temp"] for b in boards), default=0),
                             "Chip Temp Avg": self.spec.chip_temp_c,
                             "Error Code Count": 0, "MAC": self.mac,
                             "Firmware Version": "'20230911.22.REL'"}], "id": 1}

    def _wm_devs(self) -> dict:
        return {"STATUS": _status(9, f"{self.kind.boards} ASC(s)", "btminer"),
                "DEVS": [{"ASC": b["index"], "Slot": b["index"], "Name": "SM",
                          "Enabled": "Y", "Status": "Alive" if b["chips"] else "Dead",
                          "Temperature": b["temp"], "Chip Temp Avg": b["chip_temp"],
                          "MHS 1m": round(b["rate_ghs"] * 1000.0, 2),
                          "Effective Chips": b["chips"], "PCB SN": b["sn"]}
                         for b in self.boards()], "id": 1}

    def _wm_devdetails(self) -> dict:
        return {"STATUS": _status(69, "Device Details", "btminer"),
                "DEVDETAILS": [{"DEVDETAILS": b["index"], "Name": "SM", "ID": b["index"],
                                "Driver": "bitmicro", "Kernel": "", "Model": self.kind.type_name}
                               for b in self.boards()], "id": 1}

    def _wm_msg(self, msg: dict) -> dict:
        return {"STATUS": "S", "When": int(time.time()), "Code": 131, "Msg": msg,
                "Description": ""}

    def _wm_get_version(self) -> dict:
        return self._wm_msg({"api_ver": "2.0.5", "fw_ver": "20230911.22.REL",
                             "platform": "H6OS", "chip": "K210"})

    def _wm_miner_info(self) -> dict:
        return self._wm_msg({"ip": self.spec.host, "proto": "dhcp", "netmask": "255.0.0.0",
                             "dns": "", "mac": self.mac, "ledstat": "auto",
                             "gateway": "", "hostname": self.hostname, "minersn": self.serial})

    def _wm_psu(self) -> dict:
        return self._wm_msg({"name": "P221B", "hw_version": "V01.00", "sw_version": "V01.00",
                             "model": "P221B", "iin": "15.0", "vin": "220",
                             "fan_speed": "6720", "serial_no": f"{self.serial}P"})

    def _wm_error_code(self) -> dict:
        return self._wm_msg({"error_code": []})

    def _wm_status(self) -> dict:
        return self._wm_msg({"mineroff": "false", "btmineroff": "false"})

    # --- web (Antminer only)
    def cgi(self, name: str) -> dict | None:
        boards = self.boards()
        if name == "get_system_info":
            return {"minertype": self.kind.type_name, "nettype": "DHCP", "netdevice": "eth0",
                    "macaddr": self.mac, "hostname": self.hostname,
                    "ipaddress": self.spec.host, "netmask": "255.0.0.0", "gateway": "",
                    "dnsservers": "", "system_mode": "GNU/Linux",
                    "firmware_type": "Release", "serinum": self.serial}
        if name == "get_miner_conf":
            return {"pools": [{"url": "stratum+tcp://pool.invalid:3333",
                               "user": f"hashcore.{self.hostname}", "pass": "x"}],
                    "api-listen": True, "api-network": True, "api-groups": "A:stats:pools",
                    "api-allow": "A:0/0,W:*", "bitmain-fan-ctrl": False,
                    "bitmain-fan-pwm": "100", "bitmain-work-mode": "0",
                    "freq-level": "100"}
        if name == "get_blink_status":
            return {"blink": False}
        if name == "summary":
            rate = round(self.spec.hashrate_ths * 1000.0, 2)
            dead = [b for b in boards if not b["chips"]]
            return {"STATUS": {"STATUS": "S", "when": int(time.time()), "Msg": "summary",
                               "api_version": "1.0.0"},
                    "SUMMARY": [{"elapsed": self.elapsed, "rate_5s": rate, "rate_30m": rate,
                                 "rate_avg": rate, "rate_ideal": self.spec.nominal * 1000.0,
                                 "rate_unit": "GH/s", "hw_all": 12, "bestshare": 123456789,
                                 "status": [
                                     {"type": "rate", "status": "e" if dead else "s",
                                      "code": 0,
                                      "msg": f"{len(dead)} hash board(s) lost" if dead else ""},
                                     {"type": "network", "status": "s", "code": 0, "msg": ""},
                                     {"type": "fans", "status": "s", "code": 0, "msg": ""},
                                     {"type": "temp", "status": "s", "code": 0, "msg": ""}]}]}
        if name == "stats":
            return {"STATUS": {"STATUS": "S", "when": int(time.time()), "Msg": "stats",
                               "api_version": "1.0.0"},
                    "INFO": {"miner_version": "uart_trans.1.3",
                             "CompileTime": "Sat Jan 1 00:00:00 CST 2022",
                             "type": self.kind.type_name},
                    "STATS": [{"elapsed": self.elapsed,
                               "rate_5s": round(self.spec.hashrate_ths * 1000.0, 2),
                               "rate_ideal": self.spec.nominal * 1000.0, "rate_unit": "GH/s",
                               "chain_num": self.kind.boards, "fan_num": self.kind.fans,
                               "fan": [5400 + 60 * f for f in range(self.kind.fans)],
                               "chain": [{"index": b["index"], "freq_avg": 675,
                                          "rate_ideal": round(b["ideal_ghs"], 2),
                                          "rate_real": round(b["rate_ghs"], 2),
                                          "asic_num": b["chips"],
                                          "temp_pic": [b["temp"]] * 4,
                                          "temp_pcb": [b["temp"]] * 4,
                                          "temp_chip": [b["chip_temp"]] * 4,
                                          "hw": 4, "eeprom_loaded": True, "sn": b["sn"]}
                                         for b in boards]}]}
        return None


# --------------------------------------------------------------------------- servers

def _digest_ok(header: str, method: str, nonces: set[str]) -> bool:
    """Check an HTTP digest ``Authorization`` header (RFC 7616, MD5, qop=auth)."""
    if not header.lower().startswith("digest "):
        return False
    fields: dict[str, str] = {}
    for part in _split_params(header[7:]):
        key, _, value = part.partition("=")
        fields[key.strip().lower()] = value.strip().strip('"')
    if fields.get("username") != WEB_USER or fields.get("nonce") not in nonces:
        return False

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"{WEB_USER}:{REALM}:{WEB_PASSWORD}")
    ha2 = md5(f"{method}:{fields.get('uri', '')}")
    if fields.get("qop"):
        expect = md5(f"{ha1}:{fields['nonce']}:{fields.get('nc', '')}:"
                     f"{fields.get('cnonce', '')}:{fields['qop']}:{ha2}")
    else:
        expect = md5(f"{ha1}:{fields['nonce']}:{ha2}")
    return secrets.compare_digest(expect, fields.get("response", ""))


def _split_params(text: str) -> list[str]:
    """Split ``a="x, y", b=z`` on commas outside quotes."""
    parts, buf, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if buf:
        parts.append("".join(buf))
    return [p.strip() for p in parts if p.strip()]


@dataclass
class SimulatedMiner:
    """The servers of one miner; start/stop them inside a running event loop."""

    spec: MinerSpec
    servers: list[asyncio.AbstractServer] = field(default_factory=list)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _nonces: set[str] = field(default_factory=set)
    _closing: asyncio.Event | None = None

    def __post_init__(self) -> None:
        self.firmware = _Firmware(self.spec)

    async def start(self) -> None:
        self._closing = asyncio.Event()
        self.servers.append(await asyncio.start_server(
            self._tracked(self._serve_rpc), self.spec.host, RPC_PORT, reuse_address=True))
        if self.spec.kind == "s19":
            self.servers.append(await asyncio.start_server(
                self._tracked(self._serve_web), self.spec.host, WEB_PORT, reuse_address=True))

    async def stop(self) -> None:
        # Handlers end on their own (a silent one waits for this event; an open read sees
        # EOF once its transport is closed): cancelling them makes asyncio log errors.
        if self._closing is not None:
            self._closing.set()
        for server in self.servers:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for _ in range(100):
            if not self._writers:
                break
            await asyncio.sleep(0.01)
        for server in self.servers:
            await server.wait_closed()
        self.servers.clear()

    def _tracked(self, handler):
        async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self._writers.add(writer)
            try:
                if not await self._fault(reader, writer):
                    await handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError):
                pass
            finally:
                writer.close()
                try:
                    await writer.wait_closed()
                except (ConnectionError, OSError):
                    pass
                self._writers.discard(writer)
        return run

    async def _fault(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Misbehave as configured; True when the connection is dealt with."""
        fault = self.spec.fault
        if fault is None:
            return False
        try:  # take the request first, so that "close" ends with FIN rather than RST
            await asyncio.wait_for(reader.read(4096), timeout=0.5 if fault == "close" else 2)
        except asyncio.TimeoutError:
            pass
        if fault == "close":
            return True
        if self._closing.is_set():
            return True
        if fault == "garbage":
            writer.write(GARBAGE)
            await writer.drain()
            return True
        await self._closing.wait()  # "silent": hold the connection until stopped
        return True

    async def _serve_rpc(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        raw = b""
        request = None
        wait_s = 5.0  # for the first bytes; then briefly for the rest of a split request
        while request is None:
            try:
                chunk = await asyncio.wait_for(reader.read(65536), timeout=wait_s)
            except asyncio.TimeoutError:
                break
            if not chunk:
                break
            raw += chunk
            wait_s = 0.3
            try:
                request = json.loads(raw.decode("utf-8", errors="replace").rstrip("\x00"))
            except json.JSONDecodeError:
                continue
        if not isinstance(request, dict) or not isinstance(request.get("command"), str):
            reply = {"STATUS": _status(23, "Invalid JSON", self.firmware._description(),
                                       ok=False), "id": 1}
        else:
            reply = self.firmware.rpc(request["command"], request.get("parameter"))
        writer.write(json.dumps(reply).encode() + b"\x00")
        await writer.drain()

    async def _serve_web(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
        lines = head.decode("latin-1").split("\r\n")
        method, path, *_ = (lines[0].split(" ") + ["", ""])[:3]
        headers = {}
        for line in lines[1:]:
            key, sep, value = line.partition(":")
            if sep:
                headers[key.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        if length:
            await asyncio.wait_for(reader.readexactly(length), timeout=5)
        path = path.split("?", 1)[0]
        if not _digest_ok(headers.get("authorization", ""), method, self._nonces):
            nonce = secrets.token_hex(16)
            self._nonces.add(nonce)
            await _respond(writer, 401, b"401 Unauthorized",
                           {"WWW-Authenticate": f'Digest realm="{REALM}", nonce="{nonce}", '
                                                f'qop="auth"'}, "text/html")
            return
        if path == "/":
            await _respond(writer, 200, b"<html><title>Antminer</title></html>", {},
                           "text/html")
            return
        if path.startswith("/cgi-bin/") and path.endswith(".cgi"):
            body = self.firmware.cgi(path[len("/cgi-bin/"):-len(".cgi")])
            if body is not None:
                await _respond(writer, 200, json.dumps(body).encode(), {},
                               "application/json")
                return
        await _respond(writer, 404, b"404 Not Found", {}, "text/html")


async def _respond(writer: asyncio.StreamWriter, status: int, body: bytes,
                   headers: dict[str, str], content_type: str) -> None:
    reason = {200: "OK", 401: "Unauthorized", 404: "Not Found"}[status]
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}",
             f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


class FleetSimulator:
    """Several simulated miners served from one background thread with its own event loop.

    Use as a context manager; the miners listen from ``__enter__`` until ``__exit__``.
    A bind failure (address in use, no permission for port 80) raises ``InputError``.
    """

    def __init__(self, specs: list[MinerSpec]):
        hosts = [s.host for s in specs]
        if len(set(hosts)) != len(hosts):
            raise InputError("two simulated miners share an address")
        self.specs = list(specs)
        self.miners = [SimulatedMiner(s) for s in self.specs]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def hosts(self) -> list[str]:
        return [s.host for s in self.specs]

    def start(self) -> FleetSimulator:
        ready = threading.Event()
        error: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def boot() -> None:
            for miner in self.miners:
                await miner.start()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(boot())
            except BaseException as exc:  # reported to the starting thread
                error.append(exc)
                loop.run_until_complete(self._stop_all())
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop_all())
            loop.close()

        self._thread = threading.Thread(target=run, name="hashcore-fleet-sim", daemon=True)
        self._thread.start()
        ready.wait()
        if error:
            self._thread.join()
            exc = error[0]
            if isinstance(exc, OSError):
                raise InputError(f"simulated miners could not listen: {exc.strerror or exc} "
                                 f"(port {RPC_PORT} and {WEB_PORT} on 127.0.0.x; port 80 "
                                 f"needs root or CAP_NET_BIND_SERVICE)") from None
            raise exc
        return self

    async def _stop_all(self) -> None:
        for miner in self.miners:
            await miner.stop()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> FleetSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


_held = {"depth": 0}
_held_guard = threading.Lock()


@contextlib.contextmanager
def loopback_lock(timeout_s: float = 120.0):
    """Serialise simulators across processes: they all want ports 80 and 4028 on 127.0.0.x.

    Two test runs (or a test run and a demo) at once would otherwise fail to bind. Within
    one process the lock is re-entrant (its simulators use different addresses).
    """
    import fcntl

    with _held_guard:
        if _held["depth"]:
            _held["depth"] += 1
            nested = True
        else:
            nested = False
    if nested:
        try:
            yield
        finally:
            with _held_guard:
                _held["depth"] -= 1
        return
    path = os.path.join(tempfile.gettempdir(), "hashcore-fleet-simulator.lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o666)  # other users' simulators take the same lock
    except PermissionError:
        fd = os.open(path, os.O_RDONLY)  # flock works on a read-only descriptor too
    with os.fdopen(fd) as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise InputError(f"another simulated fleet has held {path} for "
                                     f"{timeout_s:g} s") from None
                time.sleep(0.1)
        with _held_guard:
            _held["depth"] += 1
        try:
            yield
        finally:
            with _held_guard:
                _held["depth"] -= 1
            fcntl.flock(fh, fcntl.LOCK_UN)


def demo_fleet(base: str = "127.0.0.1") -> list[MinerSpec]:
    """The demo: two stock S19s (no power), two M30S+ (with power), one with a dead board."""
    net = ipaddress.ip_address(check_loopback(base))
    at = [str(net + i) for i in range(4)]
    return [
        MinerSpec(at[0], "s19", hashrate_ths=93.1),
        MinerSpec(at[1], "s19", hashrate_ths=61.8, dead_boards=1),
        MinerSpec(at[2], "m30s+", hashrate_ths=98.4, power_w=3350),
        MinerSpec(at[3], "m30s+", hashrate_ths=101.2, power_w=3420, board_temp_c=66.0),
    ]


def with_fault(spec: MinerSpec, fault: str | None) -> MinerSpec:
    return replace(spec, fault=fault)


def main(argv: list[str] | None = None) -> int:
    """Serve simulated miners until Ctrl-C (for trying pyasic or ``hashcore fleet`` by hand)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m hashcore.fleet.simulator")
    parser.add_argument("miners", nargs="*", metavar="HOST=KIND[,key=value]",
                        help="e.g. 127.0.0.1=s19,hashrate_ths=90 127.0.0.2=m30s+,power_w=3400 "
                             "(default: the demo fleet)")
    args = parser.parse_args(argv)
    specs = [parse_spec(t) for t in args.miners] if args.miners else demo_fleet()

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # `kill` ends it as cleanly as Ctrl-C
    with loopback_lock(), FleetSimulator(specs) as sim:
        for spec in sim.specs:
            print(f"{spec.host}  {KINDS[spec.kind].type_name}  {spec.hashrate_ths} TH/s"
                  f"{'' if spec.fault is None else '  fault=' + spec.fault}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
