"""Network parameters: genesis headers, retarget vectors from Core and rust-bitcoin, Electrum."""

from __future__ import annotations

import json
import struct

import pytest

from hashcore import chain
from hashcore.compact import target_from_bits
from hashcore.errors import InputError
from hashcore.header import BlockHeader, header_array
from hashcore.params import (
    NETWORKS,
    calculate_next_work_required,
    get_params,
    network_of_genesis,
    permitted_difficulty_transition,
)


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_genesis_matches_shared_file(name, headers_dir):
    params = NETWORKS[name]
    raw = (headers_dir / name / f"{name}_genesis.bin").read_bytes()
    meta = json.loads((headers_dir / name / f"{name}_genesis.json").read_text())
    assert params.genesis_header == raw
    assert BlockHeader.from_bytes(raw).hash_hex == params.genesis_hash
    assert params.genesis_hash == meta["expected_hashes"][0]
    assert network_of_genesis(raw) is params


def test_constants():
    assert NETWORKS["mainnet"].interval == 2016
    assert NETWORKS["mainnet"].pow_limit_bits == 0x1D00FFFF
    assert NETWORKS["regtest"].pow_limit_bits == 0x207FFFFF
    assert NETWORKS["signet"].pow_limit_bits == 0x1E0377AE
    m = NETWORKS["mainnet"]
    assert [m.version_floor(h) for h in (227930, 227931, 363725, 388381)] == [
        -(1 << 31), 2, 3, 4]
    # pow_limit * 4 * timespan fits 256 bits for every network that retargets (exact == Core)
    for p in NETWORKS.values():
        if not p.no_retargeting:
            assert p.pow_limit * 4 * p.pow_target_timespan_s < 1 << 256
    assert get_params("testnet") is NETWORKS["testnet3"]
    with pytest.raises(InputError, match="unknown network"):
        get_params("dogecoin")


def _vectors(headers_dir):
    doc = json.loads((headers_dir / "tables" / "retarget_test_vectors_from_sources.json")
                     .read_text())
    out = []
    for group in ("bitcoin_core_pow_tests", "rust_bitcoin_pow_rs"):
        for v in doc[group]["vectors"]:
            out.append(v)
    return out


def _period_anchor(v, interval):
    """2016 synthetic headers for the closing period: only first time, last time/bits matter."""
    last_height = v["last_height"]
    first_height = last_height - interval + 1
    rows = []
    for h in range(first_height, last_height + 1):
        t = v["first_time"] if h == first_height else v["last_time"]
        rows.append(struct.pack("<i32s32sIII", 4, bytes(32), bytes(32), t,
                                int(v["last_bits"], 16), 0))
    return b"".join(rows), last_height + 1


# rust-bitcoin's next_target_mainnet states 810431's time as 1696359369 ("2023-10-03 18:56:09
# GMT +11"), 11 hours AFTER block 810432's own time (1696319920, in mainnet_checkpoints.bin):
# the +11 offset was not applied. With that time Core's formula gives 0x1705125c, not the
# real 0x1704e90f, so this one vector cannot reproduce; the test pins that down instead.
INCONSISTENT = {"next_target_mainnet": 0x1705125C}


def test_retarget_vectors_reproduce_and_neighbours_rejected(headers_dir):
    vectors = _vectors(headers_dir)
    assert len(vectors) == 7
    for v in vectors:
        if v["test"] in INCONSISTENT:
            got = calculate_next_work_required(get_params(v["network"]), int(v["last_bits"], 16),
                                               v["last_time"], v["first_time"])
            assert got == INCONSISTENT[v["test"]] != int(v["expected_bits"], 16)
            continue
        params = get_params(v["network"])
        expected = int(v["expected_bits"], 16)
        got = calculate_next_work_required(params, int(v["last_bits"], 16), v["last_time"],
                                           v["first_time"])
        assert got == expected, v["test"]
        # through the validator: a header at the boundary with the expected bits passes the
        # difficulty rule (it then fails only proof of work: it was never mined); +-1 fails it
        anchor, height = _period_anchor(v, params.interval)
        for bits, rule in ((expected, "pow"), (expected - 1, "difficulty"),
                           (expected + 1, "difficulty")):
            h = struct.pack("<i32s32sIII", 0x20000000,
                            BlockHeader.from_bytes(anchor[-80:]).raw_hash, bytes(32),
                            v["last_time"] + 600, bits, 0)
            report = chain.verify(h, params, start_height=height,
                                  anchor=chain.Anchor(headers=anchor), now=2**32)
            failed = (report.failure.rule, *report.failure.also)
            if rule == "pow":
                assert failed == ("pow",), (v["test"], report.failure)
            else:  # expected+1 may also exceed powLimit, which is named first
                assert "difficulty" in failed, (v["test"], hex(bits), report.failure)


def test_permitted_difficulty_transition_core_cases():
    main = NETWORKS["mainnet"]
    assert permitted_difficulty_transition(main, 68544, 0x1C05A3F4, 0x1C0168FD)
    assert not permitted_difficulty_transition(main, 68544, 0x1C05A3F4, 0x1C0168FD - 1)
    assert permitted_difficulty_transition(main, 46368, 0x1C387F6F, 0x1D00E1FD)
    assert not permitted_difficulty_transition(main, 46368, 0x1C387F6F, 0x1D00E1FD + 1)
    assert not permitted_difficulty_transition(main, 46369, 0x1C387F6F, 0x1C387F6E)
    assert permitted_difficulty_transition(NETWORKS["testnet3"], 5, 0x1C387F6F, 0x1D00FFFF)


def test_real_retargets_in_mainnet_0_9999(headers_dir):
    """The four retargets in the first 10,000 mainnet headers, recomputed from the headers."""
    arr = header_array((headers_dir / "mainnet" / "mainnet_0_9999.bin").read_bytes())
    params = NETWORKS["mainnet"]
    for h in range(2016, 10_000, 2016):
        got = calculate_next_work_required(params, int(arr["bits"][h - 1]),
                                           int(arr["time"][h - 1]), int(arr["time"][h - 2016]))
        assert got == arr["bits"][h]


def test_electrum_checkpoints_inside_shared_data(headers_dir):
    doc = json.loads((headers_dir / "tables" / "electrum_mainnet_checkpoints.json").read_text())
    heights_to_header: dict[int, bytes] = {}
    contiguous = [("mainnet_0_9999", 0), ("mainnet_822528_830592", 822528)]
    for name, first in contiguous:
        raw = (headers_dir / "mainnet" / f"{name}.bin").read_bytes()
        for i in range(len(raw) // 80):
            heights_to_header[first + i] = raw[80 * i:80 * i + 80]
    cps = json.loads((headers_dir / "mainnet" / "mainnet_checkpoints.json").read_text())
    raw = (headers_dir / "mainnet" / "mainnet_checkpoints.bin").read_bytes()
    for i, h in enumerate(cps["heights"]):
        heights_to_header.setdefault(h, raw[80 * i:80 * i + 80])
    hashes = targets = 0
    for cp in doc["checkpoints"]:
        if cp["height"] in heights_to_header:
            assert BlockHeader.from_bytes(heights_to_header[cp["height"]]).hash_hex == cp["hash"]
            hashes += 1
        nxt = heights_to_header.get(cp["next_period_first_height"])
        if nxt is not None:
            bits = BlockHeader.from_bytes(nxt).bits
            assert target_from_bits(bits) == int(cp["target_for_next_period"], 16)
            targets += 1
    assert hashes >= 8 and targets >= 400  # how many fall inside the shared data
