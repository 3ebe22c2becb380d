"""Readers and writers: blk*.dat (with and without XOR, shuffled), hex, JSON, Electrum, raw,
and one clear error per kind of bad input."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from hashcore import io
from hashcore.errors import ReadError
from hashcore.header import BlockHeader
from hashcore.params import MAINNET, TESTNET3
from hashcore.tree import HeaderTree

NOW = 1_900_000_000


@pytest.fixture(scope="module")
def real(headers_dir):
    return (headers_dir / "mainnet" / "mainnet_0_9999.bin").read_bytes()[:80 * 300]


def _rows(data):
    return [data[i:i + 80] for i in range(0, len(data), 80)]


def _blocks(rows, seed=0):
    rng = random.Random(seed)
    return [(r, rng.randrange(1, 3000)) for r in rows]  # fake transactions of stated length


@pytest.mark.parametrize("xor", [False, True])
def test_blk_folder_shuffled_reads_back_to_the_chain(tmp_path, real, xor):
    rows = _rows(real)
    order = list(range(len(rows)))
    random.Random(5).shuffle(order)  # blk files are not in height order
    key = bytes.fromhex("3a9f01c4e27b5d88") if xor else None
    blocks = _blocks([rows[i] for i in order])
    io.write_blk(tmp_path / "blk00000.dat", blocks[:170], MAINNET, key)
    io.write_blk(tmp_path / "blk00001.dat", blocks[170:], MAINNET, key)
    if xor:
        (tmp_path / "xor.dat").write_bytes(key)
        raw = (tmp_path / "blk00000.dat").read_bytes()
        assert raw[:4] != MAINNET.magic  # really obfuscated
    calls = []
    got = io.read_headers(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]  # one call per blk file, for the progress bar
    assert got.format == "blk" and got.network is MAINNET and not got.in_order
    assert got.data == b"".join(rows[i] for i in order)  # every header, in file order
    tree = HeaderTree(got.network, now=NOW)
    tree.add(got.data)
    result = tree.build()
    assert result.ok and result.best.tip_height == 299 and tree.best_chain() == real
    # one file read alone, with the key beside it; Core pre-allocates blk files, so zeros
    # (XORed by file offset like everything else) after the last block are padding
    single = tmp_path / "blk00001.dat"
    body = single.read_bytes()
    pad = np.zeros(4096, np.uint8)
    if xor:
        phase = np.arange(len(body), len(body) + 4096) % 8
        pad ^= np.frombuffer(key, np.uint8)[phase]
    single.write_bytes(body + pad.tobytes())
    assert io.detect_format(single) == "blk"
    assert io.read_headers(single).count == 130


def test_blk_without_xor_key_says_so(tmp_path, real):
    key = bytes(range(1, 9))
    io.write_blk(tmp_path / "blk00000.dat", _blocks(_rows(real)[:5]), MAINNET, key)
    with pytest.raises(ReadError, match="wrong magic .*xor.dat"):
        io.read_headers(tmp_path, "blk")


def test_blk_errors(tmp_path, real):
    path = tmp_path / "blk00000.dat"
    io.write_blk(path, _blocks(_rows(real)[:3]), MAINNET)
    good = path.read_bytes()
    first_len = int.from_bytes(good[4:8], "little")
    second = 8 + first_len
    # truncated in the middle of the second block
    path.write_bytes(good[:second + 50])
    with pytest.raises(ReadError) as exc:
        io.read_headers(path)
    assert exc.value.source == str(path) and exc.value.where == f"byte {second + 8}"
    assert "truncated block" in exc.value.what
    # wrong magic on the second record
    path.write_bytes(good[:second] + TESTNET3.magic + good[second + 4:])
    with pytest.raises(ReadError, match=rf"byte {second}: wrong magic 0b110907 "
                                        r"\(expected f9beb4d9\)"):
        io.read_headers(path, "blk")
    # bad length (shorter than a header)
    path.write_bytes(good[:second + 4] + (10).to_bytes(4, "little") + good[second + 8:])
    with pytest.raises(ReadError, match=rf"byte {second + 4}: bad block length 10"):
        io.read_headers(path, "blk")
    # truncated record prefix
    path.write_bytes(good[:second + 5])
    with pytest.raises(ReadError, match="truncated record prefix"):
        io.read_headers(path, "blk")


def test_hex_roundtrip_and_layouts(tmp_path, real):
    path = tmp_path / "h.hex"
    assert io.write_hex(path, real) == 300
    assert io.detect_format(path) == "hex"
    assert io.read_headers(path).data == real
    # several per line, blank lines and comments
    rows = _rows(real[:800])
    text = "# headers\n" + " ".join(r.hex() for r in rows[:4]) + "\n\n" + "\t".join(
        r.hex().upper() for r in rows[4:]) + "\n"
    path.write_text(text)
    assert io.read_headers(path, "hex").data == real[:800]


def test_hex_errors(tmp_path, real):
    path = tmp_path / "h.hex"
    path.write_text(real[:80].hex() + "\n" + real[80:160].hex()[:-1] + "\n")
    with pytest.raises(ReadError, match=r"line 2: odd-length hex \(159 digits\)"):
        io.read_headers(path, "hex")
    path.write_text(real[:80].hex() + "\n" + "zz" + real[81:160].hex() + "\n")
    with pytest.raises(ReadError, match=r"line 2: not hex: 'z' at column 1"):
        io.read_headers(path, "hex")
    path.write_text(real[:80].hex() + "abcd\n")
    with pytest.raises(ReadError, match="line 1: 82 bytes of hex is not a whole number"):
        io.read_headers(path, "hex")
    path.write_text("\n# nothing\n")
    with pytest.raises(ReadError, match="empty"):
        io.read_headers(path, "hex")


def test_empty_and_truncated_raw(tmp_path, real):
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(ReadError, match="empty"):
        io.read_headers(empty)
    for fmt in ("raw", "hex", "blk", "json", "electrum"):
        with pytest.raises(ReadError, match="empty"):
            io.read_headers(empty, fmt)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(real[:80 * 3 + 17])
    with pytest.raises(ReadError) as exc:
        io.read_headers(cut)
    assert exc.value.where == "byte 240" and "17 bytes left over" in exc.value.what
    with pytest.raises(ReadError, match="byte 240"):
        list(io.iter_raw_chunks(cut))
    with pytest.raises(ReadError, match="no such file"):
        io.read_headers(tmp_path / "missing.bin")
    with pytest.raises(ReadError, match="unknown format"):
        io.read_headers(cut, "xml")


def _rpc_object(raw: bytes, height: int) -> dict:
    h = BlockHeader.from_bytes(raw)
    obj = {"hash": h.hash_hex, "confirmations": 1, "height": height, "version": h.version,
           "versionHex": f"{h.version:08x}", "merkleroot": h.merkle_root_hex, "time": h.time,
           "mediantime": h.time, "nonce": h.nonce, "bits": f"{h.bits:08x}",
           "difficulty": h.difficulty, "chainwork": "00", "nTx": 1}
    if height:
        obj["previousblockhash"] = h.prev_hash_hex
    return obj


def test_bitcoin_cli_json(tmp_path, real):
    rows = _rows(real[:800])
    path = tmp_path / "headers.json"
    path.write_text(json.dumps([_rpc_object(r, i) for i, r in enumerate(rows)], indent=2))
    got = io.read_headers(path)
    assert got.format == "json" and got.data == real[:800] and got.heights == list(range(10))
    assert got.start_height == 0 and got.in_order
    one = tmp_path / "one.json"
    one.write_text(json.dumps(_rpc_object(rows[5], 5)))
    assert io.read_headers(one).data == rows[5] and io.read_headers(one).start_height == 5
    # getblockheader <hash> false: a JSON string, or a list of them
    one.write_text(json.dumps(rows[3].hex()))
    assert io.read_headers(one).data == rows[3]
    one.write_text(json.dumps([r.hex() for r in rows[:3]]))
    assert io.read_headers(one, "json").data == real[:240]
    # a stated hash that the fields do not produce
    bad = _rpc_object(rows[2], 2)
    bad["nonce"] += 1
    one.write_text(json.dumps([_rpc_object(rows[1], 1), bad]))
    with pytest.raises(ReadError, match="item 1: the fields hash to .* but the object states"):
        io.read_headers(one)
    del bad["merkleroot"]
    one.write_text(json.dumps(bad))
    with pytest.raises(ReadError, match="object: missing field 'merkleroot'"):
        io.read_headers(one)
    one.write_text("[{\"hash\": ")
    with pytest.raises(ReadError, match="line 1: not valid JSON"):
        io.read_headers(one, "json")


def test_electrum_blockchain_headers(tmp_path, real):
    path = tmp_path / "blockchain_headers"
    path.write_bytes(real + bytes(80 * 5))  # reserved, not yet filled slots
    assert io.detect_format(path) == "electrum"
    got = io.read_headers(path)
    assert got.data == real and got.start_height == 0


def test_raw_writer_and_detection(tmp_path, real):
    path = tmp_path / "h.bin"
    assert io.write_raw(path, real) == 300
    assert io.detect_format(path) == "raw"
    got = io.read_headers(path)
    assert got.data == real and got.format == "raw"
    assert b"".join(io.iter_raw_chunks(path, 7)) == real


@pytest.mark.parametrize("first", [b"{", b"[", b'"'])
def test_raw_header_opening_like_json_is_still_raw(tmp_path, headers_dir, first):
    raw = (headers_dir / "mainnet" / "mainnet_0_9999.bin").read_bytes()[:800]
    data = first + raw[1:]
    path = tmp_path / "headers.bin"
    path.write_bytes(data)
    assert io.detect_format(path) == "raw"
    assert io.read_headers(path).data == data
