"""chain.verify on real headers: every shared file, one failing case per rule, windows,
chunking, and agreement with the slow per-header reference validator on every case."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from hashcore import chain
from hashcore.chain_reference import verify_reference
from hashcore.header import BlockHeader, header_array
from hashcore.io import iter_raw_chunks
from hashcore.params import MAINNET, NETWORKS, TESTNET3, get_params

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from mine_chain import easy_params, mine_chain  # noqa: E402

NOW = 1_900_000_000  # fixed "now" so the future rule never depends on the clock


def both(data, network, start_height=0, anchor=None, now=NOW, chunk=None):
    """Run the fast and the slow validator; they must agree on everything they report."""
    kwargs = {"chunk": chunk} if chunk else {}
    fast = chain.verify(data, network, start_height, anchor, now, **kwargs)
    slow = verify_reference(data, network, start_height, anchor, now)
    assert (fast.ok, fast.count, fast.valid, fast.tip_height, fast.tip_hash, fast.chainwork,
            fast.failure) == (slow.ok, slow.count, slow.valid, slow.tip_height, slow.tip_hash,
                              slow.chainwork, slow.failure)
    assert set(fast.not_checked) == set(slow.not_checked)
    return fast


def load(headers_dir, rel):
    path = headers_dir / rel
    return path.read_bytes(), json.loads(path.with_suffix(".json").read_text())


def mutate(data: bytes, index: int, **changes) -> bytes:
    h = BlockHeader.from_bytes(data[80 * index:80 * index + 80]).replace(**changes)
    return data[:80 * index] + h.to_bytes() + data[80 * index + 80:]


# ----------------------------------------------------------------------------- shared data

CONTIGUOUS = ["mainnet/mainnet_0_9999.bin", "mainnet/mainnet_822528_830592.bin",
              "testnet3/testnet3_0_9999.bin", "testnet4/testnet4_0_30.bin"]


@pytest.mark.parametrize("rel", CONTIGUOUS)
def test_contiguous_files_verify(headers_dir, rel):
    data, meta = load(headers_dir, rel)
    report = both(data, meta["network"], meta["first_height"])
    assert report.ok and report.valid == meta["count"]
    assert report.tip_height == meta["last_height"]
    if meta["first_height"] == 0:
        assert report.not_checked == []
    else:  # a window with nothing before it: the context rules are reported, not failed
        assert {nc.rule for nc in report.not_checked} == {"link", "mtp", "difficulty"}


def test_every_shared_file_verifies_as_its_json_states(headers_dir):
    checked = 0
    for meta_path in sorted(headers_dir.glob("*/*.json")):
        if not meta_path.with_suffix(".bin").exists():
            continue  # tables/
        meta = json.loads(meta_path.read_text())
        data = meta_path.with_suffix(".bin").read_bytes()
        network = meta["network"]
        if network not in NETWORKS:  # btcd's reorg tree: mainnet rules, a tree (test_tree)
            continue
        if meta.get("contiguous"):
            report = chain.verify(data, network, meta["first_height"], now=NOW)
            assert report.ok, (meta_path.name, report.failure)
            assert report.tip_height == meta["last_height"]
            for h, expected in zip(meta.get("heights", []), meta.get("expected_hashes", []),
                                   strict=False):
                if expected and h == report.tip_height:
                    assert report.tip_hash == expected
        elif "labels" not in meta:  # scattered heights: each header as a window of one
            for i, h in enumerate(meta["heights"]):
                report = chain.verify(data[80 * i:80 * i + 80], network, h, now=NOW)
                assert report.ok, (meta_path.name, h, report.failure)
        else:  # a tree with forks (regtest): the best tip is the highest labelled header
            from hashcore.tree import HeaderTree

            tree = HeaderTree(network, now=NOW)
            tree.add(data)
            result = tree.build()
            assert result.ok and result.best.tip_height == max(meta["heights"])
        checked += 1
    assert checked == 14


def test_checkpoints_chainwork_per_header(headers_dir):
    """bitcoinj's stored chainwork grows by exactly the work of the headers in between."""
    data, meta = load(headers_dir, "signet/signet_checkpoints.bin")
    arr = header_array(data)
    work = [int(w, 16) for w in meta["chainwork_hex"]]
    from hashcore.header import work_from_bits
    # after a checkpoint header come 2015 more of its period's bits, then the next one
    for k in range(1, len(work)):
        assert work[k] - work[k - 1] == (2015 * work_from_bits(int(arr["bits"][k - 1]))
                                         + work_from_bits(int(arr["bits"][k])))


# ----------------------------------------------------------------------------- one rule each

@pytest.fixture(scope="module")
def main10k(headers_dir):
    return (headers_dir / "mainnet" / "mainnet_0_9999.bin").read_bytes()


@pytest.fixture(scope="module")
def modern(headers_dir):
    return (headers_dir / "mainnet" / "mainnet_822528_830592.bin").read_bytes()


def _failed(report, height, rule):
    assert not report.ok
    assert report.failure.height == height and report.failure.rule == rule, report.failure
    assert report.valid == height - report.start_height  # nothing after it counts as valid
    assert report.tip_height == (height - 1 if height > report.start_height else None)
    return report.failure


def test_rule_pow_nonce(main10k):
    f = _failed(both(mutate(main10k, 5000, nonce=1), "mainnet"), 5000, "pow")
    assert f.got.startswith("hash ") and f.expected.startswith("<= target 00000000ffff")


def test_rule_difficulty_bits(main10k):
    f = _failed(both(mutate(main10k, 5000, bits=0x1D00FFFE), "mainnet"), 5000, "difficulty")
    assert (f.got, f.expected) == ("bits 0x1d00fffe", "0x1d00ffff")
    assert "pow" in f.also


def test_rule_mtp(main10k):
    t = BlockHeader.from_bytes(main10k[80 * 4990:80 * 4991]).time
    f = _failed(both(mutate(main10k, 5000, time=t), "mainnet"), 5000, "mtp")
    assert f.expected.startswith("> median-time-past ")


def test_rule_future(main10k):
    last = BlockHeader.from_bytes(main10k[-80:])
    now = last.time - 7200 - 1  # the last header is 1 s beyond now + 2 h
    f = _failed(both(main10k, "mainnet", now=now), 9999, "future")
    assert f.expected == f"<= {now + 7200} (now {now} + 7200 s)"
    assert both(main10k, "mainnet", now=last.time - 7200).ok  # exactly now + 2 h is allowed


def test_rule_link(main10k):
    other = BlockHeader.from_bytes(main10k[80 * 4998:80 * 4999]).raw_hash
    f = _failed(both(mutate(main10k, 5000, prev_hash=other), "mainnet"), 5000, "link")
    assert f.expected.startswith(BlockHeader.from_bytes(main10k[80 * 4999:80 * 5000]).hash_hex)


def test_rule_version_floor(modern):
    # heights 822528.. are past BIP65 (388381): version 3 is below the floor of 4
    f = _failed(both(mutate(modern, 100, version=3), "mainnet", 822528), 822628, "version")
    assert (f.got, f.expected) == ("version 0x00000003", ">= 4 at this height")
    # version 4 there passes the version rule (and fails only proof of work)
    r = both(mutate(modern, 100, version=4), "mainnet", 822528)
    assert r.failure.rule == "pow"


def test_rule_checkpoint(headers_dir):
    data = (headers_dir / "testnet3" / "testnet3_0_9999.bin").read_bytes()
    assert both(data[:80 * 600], "testnet3").ok  # height 546 is a Core testnet3 checkpoint
    f = _failed(both(mutate(data[:80 * 600], 546, nonce=0), "testnet3"), 546, "checkpoint")
    assert f.expected == f"checkpoint {TESTNET3.checkpoints[546]}" and "pow" in f.also


@pytest.mark.parametrize("bits,rule,why", [
    (0x1D80FFFF, "bits-invalid", "a negative target"),
    (0xFF00FFFF, "bits-invalid", "a target overflowing 256 bits"),
    (0x1D000000, "bits-invalid", "a zero target"),
    (0x1D01FFFF, "pow-limit", "target <= powLimit"),
])
def test_rule_bad_bits(main10k, bits, rule, why):
    f = _failed(both(mutate(main10k, 777, bits=bits), "mainnet"), 777, rule)
    assert f.expected.startswith(why) and f.got == f"bits 0x{bits:08x}"


def test_rule_genesis(headers_dir):
    data = (headers_dir / "testnet3" / "testnet3_0_9999.bin").read_bytes()
    _failed(both(data[:8000], "mainnet"), 0, "genesis")


def test_rule_timewarp_bip94():
    params = easy_params(interval=16, bip94=True, name="easy-bip94")
    good = mine_chain(params, 40)
    assert both(good, params).ok
    arr = header_array(good)
    prev_time = int(arr["time"][31])
    # the first block of the period at 32 may be 600 s before its parent, not 601
    for delta, ok in ((600, True), (601, False)):
        data = mutate(good, 32, time=prev_time - delta)
        report = both(data[:80 * 33], params)
        if ok:
            assert report.failure is None or report.failure.rule == "pow"
        else:
            assert report.failure.rule == "timewarp" and report.failure.height == 32


# ----------------------------------------------------------------------------- testnet3

def test_testnet3_min_difficulty_rule(headers_dir):
    data = (headers_dir / "testnet3" / "testnet3_0_9999.bin").read_bytes()
    assert both(data, "testnet3").ok
    arr = header_array(data)
    bits = arr["bits"].astype(np.int64)
    heights = np.arange(len(arr))
    first_min = int(np.flatnonzero((heights[1:] % 2016 != 0) & (bits[1:] != bits[:-1]))[0]) + 1
    strict = TESTNET3.replace(allow_min_difficulty=False, name="testnet3-without-20-min-rule")
    report = both(data, strict)
    f = _failed(report, first_min, "difficulty")
    assert f.got == "bits 0x1d00ffff"  # a min-difficulty block where mainnet wants the period's


# ----------------------------------------------------------------------------- windows

def test_window_without_anchor_reports_not_checked(main10k):
    report = both(main10k[80 * 3000:80 * 5000], "mainnet", 3000)
    assert report.ok
    assert {str(nc) for nc in report.not_checked} == {
        "link at height 3000: the header before the window is not given",
        "mtp at heights 3000..3010: fewer than 11 earlier headers are given",
        "difficulty at height 3000: the bits before the window are not given",
        "difficulty at height 4032: the retarget needs the period's first header "
        "(height 2016), which is not given"}


def test_window_with_anchor_checks_everything(main10k):
    anchor = chain.Anchor(headers=main10k[80 * 2016:80 * 3000])
    report = both(main10k[80 * 3000:80 * 5000], "mainnet", 3000, anchor)
    assert report.ok and report.not_checked == []
    # a wrong link into the window is caught with the anchor, and only "not checked" without
    bad = mutate(main10k[80 * 3000:80 * 3100], 0, prev_hash=bytes(32))
    assert both(bad, "mainnet", 3000, anchor).failure.rule == "link"
    assert both(bad, "mainnet", 3000).failure.rule == "pow"  # no anchor: link not checked
    # a trusted hash anchors the link only
    h2999 = BlockHeader.from_bytes(main10k[80 * 2999:80 * 3000]).hash_hex
    report = both(main10k[80 * 3000:80 * 3100], "mainnet", 3000, h2999)
    assert {nc.rule for nc in report.not_checked} == {"mtp", "difficulty"}
    assert both(bad, "mainnet", 3000, h2999).failure.rule == "link"


def test_start_height_one_anchors_on_genesis(main10k):
    report = both(main10k[80:], "mainnet", 1)
    assert report.ok and report.not_checked == [] and report.tip_height == 9999


@pytest.mark.parametrize("chunk", [1, 7, 2016, 4099])
def test_chunking_is_invisible(main10k, headers_dir, chunk):
    full = chain.verify(main10k, "mainnet", now=NOW)
    part = chain.verify(main10k[:80 * 5000] if chunk == 1 else main10k, "mainnet", now=NOW,
                        chunk=chunk)
    if chunk != 1:
        assert (part.chainwork, part.tip_hash, part.ok) == (full.chainwork, full.tip_hash, True)
    tn = (headers_dir / "testnet3" / "testnet3_0_9999.bin").read_bytes()
    a = chain.verify(tn, "testnet3", now=NOW)
    b = chain.verify(tn[:80 * 3000] if chunk == 1 else tn, "testnet3", now=NOW, chunk=chunk)
    if chunk != 1:
        assert (a.chainwork, a.tip_hash, b.ok) == (b.chainwork, b.tip_hash, True)
    else:
        assert b.ok
    # a failure found inside a later chunk is the same failure
    bad = mutate(main10k, 6000, bits=0x1D00FFFE)
    assert chain.verify(bad, "mainnet", now=NOW, chunk=max(chunk, 64)).failure == \
        chain.verify(bad, "mainnet", now=NOW).failure


def test_streaming_from_file(tmp_path, main10k):
    path = tmp_path / "h.bin"
    path.write_bytes(main10k)
    report = chain.verify(iter_raw_chunks(path, 1000), "mainnet", now=NOW)
    assert report.ok and report.count == 10_000 and report.tip_height == 9999
    assert report.chainwork == 0x271027102710  # 10,000 difficulty-1 blocks, as Core counts
    objects = [BlockHeader.from_bytes(main10k[i:i + 80]) for i in range(0, 80 * 300, 80)]
    assert chain.verify(objects, "mainnet", now=NOW).tip_height == 299


def test_mined_chain_with_retargets_agrees():
    params = easy_params(interval=16, name="easy16")
    data = mine_chain(params, 200)
    bits = set(header_array(data)["bits"].tolist())
    assert len(bits) > 3  # the difficulty really moved
    assert both(data, params).ok
    assert both(data, params, chunk=5).ok
    bad = mutate(data, 64, bits=int(header_array(data)["bits"][63]))
    r = both(bad, params)
    assert r.failure.height == 64 and r.failure.rule in ("difficulty", "pow")
    assert "difficulty" in (r.failure.rule, *r.failure.also) or \
        header_array(data)["bits"][64] == header_array(data)["bits"][63]


def test_bad_arguments():
    from hashcore.errors import InputError

    with pytest.raises(InputError):
        chain.verify(b"\x00" * 81, "mainnet")
    with pytest.raises(InputError):
        chain.verify(b"", "mainnet", start_height=-1)
    with pytest.raises(InputError, match="not str"):
        chain.verify("00", "mainnet")
    with pytest.raises(InputError, match="anchor"):
        chain.verify(MAINNET.genesis_header, "mainnet", 5, anchor=12)
    assert chain.verify(b"", "mainnet").valid == 0
    assert get_params("mainnet") is MAINNET
    assert struct.calcsize("<i32s32sIII") == 80


def test_random_mutations_and_windows_agree_with_reference(headers_dir):
    """Seeded random cases on testnet3 (min-difficulty rule, a retarget at 2016): the fast
    and slow validators agree on every one, including windows with and without anchors."""
    import random

    data = (headers_dir / "testnet3" / "testnet3_0_9999.bin").read_bytes()[:80 * 2300]
    rng = random.Random(1234)
    fields = ["time", "bits", "version", "nonce", "prev_hash"]
    for _ in range(8):
        i = rng.randrange(1, 2300)
        field = rng.choice(fields)
        h = BlockHeader.from_bytes(data[80 * i:80 * i + 80])
        value = {"time": h.time + rng.choice([-4000, -1, 1, 1300, 10**6]),
                 "bits": rng.choice([0x1D00FFFF, 0x1C3FFFC0, 0x1D00FFFE, 0x1C0FFFF0]),
                 "version": rng.choice([0, 1, 2, -1]),
                 "nonce": rng.randrange(2**32),
                 "prev_hash": bytes(rng.randrange(256) for _ in range(32))}[field]
        bad = mutate(data, i, **{field: value})
        start = rng.choice([0, 0, rng.randrange(1, i + 1)])
        anchor = None
        if start and rng.random() < 0.5:
            anchor = chain.Anchor(headers=bad[80 * max(0, start - rng.randrange(1, 2100)):
                                              80 * start])
        both(bad[80 * start:], "testnet3", start, anchor, now=h.time + 10**5,
             chunk=rng.choice([None, 97, 1000]))


def test_verify_accepts_what_the_reader_returns(headers_dir):
    from hashcore import io

    path = headers_dir / "mainnet" / "mainnet_0_9999.bin"
    report = chain.verify(io.read_headers(path), "mainnet")
    assert report.ok and report.count == 10_000 and report.tip_height == 9999
