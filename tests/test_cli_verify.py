"""`hashcore verify`: exit codes, summaries and JSON on real files and mutated copies."""

from __future__ import annotations

import json

import pytest

from hashcore.cli import main
from hashcore.header import BlockHeader

NOW = "1900000000"


def run(capsys, *argv):
    code = main(["verify", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("rel,start,tip", [
    ("mainnet/mainnet_0_9999.bin", None, 9999),
    ("testnet3/testnet3_0_9999.bin", None, 9999),
    ("testnet4/testnet4_0_30.bin", None, 30),
    ("regtest/regtest_test_blockchain_headers.bin", None, 13),
    ("mainnet/mainnet_822528_830592.bin", "822528", 830592),
    ("signet/signet_genesis.bin", None, 0),
])
def test_shared_files_exit_0_with_the_right_tip(capsys, headers_dir, rel, start, tip):
    path = headers_dir / rel
    args = [str(path), "--now", NOW, "--json"] + (["--start-height", start] if start else [])
    code, out, err = run(capsys, *args)
    doc = json.loads(out)
    assert code == 0 and doc["ok"] and doc["tip_height"] == tip, err
    meta = json.loads(path.with_suffix(".json").read_text())
    assert doc["network"] == meta["network"]  # taken from the genesis header when at 0
    code, out, _ = run(capsys, *args[:-1] if start is None else
                       [str(path), "--now", NOW, "--start-height", start])
    assert code == 0 and f"height {tip}" in out and "OK" in out


def test_mutated_file_exits_1_with_the_rule(capsys, headers_dir, tmp_path):
    data = bytearray((headers_dir / "mainnet" / "mainnet_0_9999.bin").read_bytes())
    h = BlockHeader.from_bytes(data[80 * 32:80 * 33]).replace(bits=0x1D00FFFE)
    data[80 * 32:80 * 33] = h.to_bytes()
    path = tmp_path / "bad.bin"
    path.write_bytes(bytes(data))
    code, out, _ = run(capsys, str(path), "--now", NOW)
    assert code == 1
    assert "FAILED        difficulty: bits 0x1d00fffe, expected 0x1d00ffff at height 32" in out
    code, out, _ = run(capsys, str(path), "--now", NOW, "--json")
    doc = json.loads(out)
    assert code == 1 and doc["failure"]["rule"] == "difficulty" and doc["valid"] == 32


def test_stale_and_fork_summary(capsys, headers_dir):
    code, out, _ = run(capsys, str(headers_dir / "mainnet" / "mainnet_822528_830592.bin"),
                       str(headers_dir / "mainnet" / "mainnet_stale.bin"),
                       "--start-height", "822528", "--now", NOW)
    assert code == 0
    assert "1 stale branches" in out and "stale       height 823226" in out


def test_unreadable_input_exits_2(capsys, tmp_path):
    bad = tmp_path / "bad.hex"
    bad.write_text("00" * 80 + "\nxyz\n")
    code, _, err = run(capsys, str(bad))
    assert code == 2 and f"{bad}: line 2: odd-length hex" in err
    assert err.count("\n") == 1  # one line, no traceback
    code, _, err = run(capsys, str(tmp_path / "none.bin"))
    assert code == 2 and "no such file" in err
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    code, _, err = run(capsys, str(empty))
    assert code == 2 and "empty" in err
    code, _, err = run(capsys, str(bad), "--start-height", "-3")
    assert code == 2


def test_network_and_format_override(capsys, headers_dir, tmp_path):
    tn = headers_dir / "testnet3" / "testnet3_0_9999.bin"
    code, out, _ = run(capsys, str(tn), "--network", "mainnet", "--now", NOW, "--json")
    assert code == 1 and json.loads(out)["failure"]["rule"] == "genesis"
    hexfile = tmp_path / "h.txt"
    hexfile.write_text("\n".join(tn.read_bytes()[i:i + 80].hex() for i in range(0, 8000, 80)))
    code, out, _ = run(capsys, str(hexfile), "--format", "hex", "--now", NOW, "--json")
    assert code == 0 and json.loads(out)["network"] == "testnet3"
