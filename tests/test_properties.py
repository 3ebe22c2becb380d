"""Property tests (hypothesis): compact bits, work, chunked verification, tree arrival order.

Each property is stated against an independent formulation (Core's rules written out here
from their definition), not against the code under test.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hashcore.compact import bits_from_target, decode_bits, target_from_bits
from hashcore.errors import InputError
from hashcore.header import BlockHeader, work_from_bits

TWO_256 = 1 << 256
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

u32 = st.integers(0, 0xFFFFFFFF)
targets = st.one_of(
    st.integers(1, TWO_256 - 1),
    st.integers(1, 255).flatmap(lambda k: st.integers(1 << (k - 1), (1 << k) - 1)),
    st.integers(0, 255).map(lambda k: 1 << k),
    st.integers(1, 256).map(lambda k: (1 << k) - 1),
)


def valid(bits: int) -> bool:
    t = decode_bits(bits)
    return not t.negative and not t.overflow and t.target != 0


def core_canonical(bits: int) -> bool:
    """Is ``bits`` a form GetCompact can produce? Written from GetCompact's definition.

    GetCompact takes size = byte length of the target and keeps its top three bytes as the
    mantissa; if that mantissa has bit 23 set it shifts one byte right and adds one to size.
    So the mantissa (sign bit clear) never has its top byte zero unless the shift happened
    (then it is >= 0x8000), and with size < 3 the bytes shifted out must be zero.
    """
    size, mant = bits >> 24, bits & 0xFFFFFF
    if mant & 0x800000 or mant == 0:
        return False
    if size < 3 and mant & ((1 << (8 * (3 - size))) - 1):
        return False   # bytes below the target's last byte: GetCompact never sets them
    value = mant >> (8 * (3 - size)) if size < 3 else mant << (8 * (size - 3))
    if value == 0 or value >= TWO_256:
        return False
    # The size GetCompact would choose for this value: its byte length, plus one when the
    # top mantissa byte would have the sign bit set.
    length = (value.bit_length() + 7) // 8
    top = value >> (8 * (length - 3)) if length >= 3 else value << (8 * (3 - length))
    return size == length + (1 if top & 0x800000 else 0)


@FAST
@given(u32)
def test_bits_round_trip_exactly_for_canonical_forms(bits: int) -> None:
    if not valid(bits):
        with pytest.raises(InputError):
            target_from_bits(bits)
        return
    target = target_from_bits(bits)
    again = bits_from_target(target)
    # The value always survives: every valid compact target is representable.
    assert target_from_bits(again) == target
    # The bits themselves survive exactly when they are Core's canonical form.
    assert (again == bits) == core_canonical(bits), hex(bits)


@FAST
@given(st.integers(1, 34), st.integers(0x8000, 0x7FFFFF))
def test_canonical_mantissas_round_trip(size: int, mant: int) -> None:
    bits = (size << 24) | mant
    if not valid(bits) or not core_canonical(bits):
        return
    assert bits_from_target(target_from_bits(bits)) == bits


@FAST
@given(targets)
def test_target_to_bits_rounds_down_to_three_significant_bytes(target: int) -> None:
    bits = bits_from_target(target)
    assert valid(bits)
    back = target_from_bits(bits)
    size = (target.bit_length() + 7) // 8
    keep = max(0, 8 * (size - 3))
    # What Core keeps: the top three bytes of the target (fewer when the sign bit forces a
    # shift, in which case the lowest of them is dropped too).
    assert back <= target
    assert back >> keep in (target >> keep, (target >> (keep + 8)) << 8)
    assert (back >> keep) & ~0xFF == (target >> keep) & ~0xFF
    assert core_canonical(bits)
    assert bits_from_target(back) == bits


@FAST
@given(targets, targets)
def test_compact_rounding_is_monotone(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert target_from_bits(bits_from_target(lo)) <= target_from_bits(bits_from_target(hi))


@FAST
@given(u32, u32)
def test_work_is_monotone_in_target(b1: int, b2: int) -> None:
    if not (valid(b1) and valid(b2)):
        assert work_from_bits(b1) == 0 or valid(b1)
        assert work_from_bits(b2) == 0 or valid(b2)
        return
    t1, t2 = target_from_bits(b1), target_from_bits(b2)
    w1, w2 = work_from_bits(b1), work_from_bits(b2)
    assert w1 == TWO_256 // (t1 + 1) and w2 == TWO_256 // (t2 + 1)
    assert w1 >= 1 and w2 >= 1
    if t1 <= t2:
        assert w1 >= w2
    else:
        assert w1 <= w2


@FAST
@given(st.integers(1, (1 << 254) - 1), st.integers(0, 1 << 64))
def test_work_strictly_falls_when_target_doubles(target: int, extra: int) -> None:
    bigger = min(TWO_256 - 1, 2 * target + 1 + extra)
    b_small, b_big = bits_from_target(target), bits_from_target(bigger)
    t_small, t_big = target_from_bits(b_small), target_from_bits(b_big)
    assert t_small < t_big
    assert work_from_bits(b_small) > work_from_bits(b_big)


@FAST
@given(u32, u32, st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32),
       st.integers(-(1 << 31), (1 << 31) - 1), u32)
def test_header_bytes_round_trip(time_, nonce, prev, merkle, version, bits) -> None:
    h = BlockHeader(version, prev, merkle, time_, bits, nonce)
    raw = h.to_bytes()
    assert len(raw) == 80
    assert raw[72:76] == struct.pack("<I", bits)
    assert BlockHeader.from_bytes(raw) == h
    assert h.work == work_from_bits(bits)


def test_real_bits_are_all_canonical(headers_dir) -> None:
    """Every nBits in the shared real data was produced by GetCompact, so it round-trips."""
    seen = set()
    for path in headers_dir.glob("*/*.bin"):
        raw = path.read_bytes()
        for i in range(0, len(raw), 80):
            seen.add(struct.unpack_from("<I", raw, i + 72)[0])
    assert len(seen) > 100
    for bits in seen:
        assert core_canonical(bits), hex(bits)
        assert bits_from_target(target_from_bits(bits)) == bits


# --------------------------------------------------------------------------- chunked verify

NOW = 2_000_000_000  # a fixed clock, after every shared header


def _slices(headers_dir):
    """(label, bytes, network, start_height) windows of real files, read once."""
    main = (headers_dir / "mainnet" / "mainnet_0_9999.bin").read_bytes()
    modern = (headers_dir / "mainnet" / "mainnet_822528_830592.bin").read_bytes()
    return [
        ("mainnet 0..399", main[: 400 * 80], "mainnet", 0),
        ("mainnet 2000..2399 (no anchor)", main[2000 * 80: 2400 * 80], "mainnet", 2000),
        # 822528 + 2016 = 824544: the window crosses a retarget boundary.
        ("mainnet 824400..824699", modern[(824400 - 822528) * 80: (824700 - 822528) * 80],
         "mainnet", 824400),
    ]


@pytest.fixture(scope="module")
def windows(headers_dir):
    return _slices(headers_dir)


def _report(parts, network, start_height, **kw):
    from hashcore import chain

    return chain.verify(parts, network, start_height=start_height, now=NOW, **kw).to_dict()


def _mutate(buf: bytes, at: int, field_off: int, value: int) -> bytes:
    raw = bytearray(buf)
    struct.pack_into("<I", raw, 80 * at + field_off, value)
    return bytes(raw)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 2), cuts=st.lists(st.integers(0, 400), max_size=12),
       mutate=st.one_of(st.none(), st.tuples(st.integers(0, 299), st.sampled_from((68, 72, 76)),
                                              st.integers(0, 0xFFFFFFFF))),
       chunk=st.sampled_from((1, 7, 64, 1 << 16)))
def test_verify_is_independent_of_chunking(windows, which, cuts, mutate, chunk) -> None:
    _, buf, network, start = windows[which]
    if mutate is not None:
        buf = _mutate(buf, *mutate)  # time, bits or nonce of one header: a failure somewhere
    n = len(buf) // 80
    bounds = sorted({0, n, *(c for c in cuts if c <= n)})
    parts = [buf[80 * a: 80 * b] for a, b in zip(bounds, bounds[1:], strict=False)]
    whole = _report(buf, network, start)
    assert _report(parts, network, start) == whole
    assert _report(iter(parts), network, start, chunk=chunk) == whole
    if mutate is None:
        assert whole["ok"] and whole["valid"] == n


# --------------------------------------------------------------------------- tree arrival order

TREE_FILES = (("mainnet/fork_btcd_reorgtest.bin", "mainnet"),
              ("regtest/regtest_test_blockchain_headers.bin", "regtest"))


def _tree(rows: list[bytes], network: str, groups: list[int] | None = None):
    from hashcore.tree import HeaderTree

    t = HeaderTree(network, now=NOW)
    bounds = sorted({0, len(rows), *(g for g in (groups or []) if g <= len(rows))})
    for a, b in zip(bounds, bounds[1:], strict=False):
        t.add(b"".join(rows[a:b]))
    report = t.build()
    return t, report


def _summary(t, report) -> dict:
    return {"best_hash": report.best.tip_hash, "best_height": report.best.tip_height,
            "chain": t.best_chain(), "tips": sorted(t.tips()), "ok": report.ok,
            "stale": sorted((b.tip_hash, b.fork_height, b.length, b.valid)
                            for b in report.stale),
            "orphans": sorted(report.orphans)}


@pytest.fixture(scope="module")
def tree_inputs(headers_dir):
    out = []
    for name, network in TREE_FILES:
        raw = (headers_dir / name).read_bytes()
        rows = [raw[i: i + 80] for i in range(0, len(raw), 80)]
        t, report = _tree(rows, network)
        out.append((rows, network, _summary(t, report)))
    return out


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 1), data=st.data())
def test_tree_best_tip_independent_of_arrival_order(tree_inputs, which, data) -> None:
    rows, network, want = tree_inputs[which]
    order = data.draw(st.permutations(range(len(rows))), label="order")
    dups = data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=4), label="duplicates")
    groups = data.draw(st.lists(st.integers(0, len(rows) + len(dups)), max_size=6),
                       label="add() boundaries")
    arrived = [rows[i] for i in order] + [rows[i] for i in dups]
    t, report = _tree(arrived, network, groups)
    assert want["ok"]
    assert _summary(t, report) == want


def _mine_sibling(header: bytes) -> bytes:
    """A different header with the same parent, bits and time (regtest: half of all nonces)."""
    import hashlib

    nonce = struct.unpack_from("<I", header, 76)[0]
    target = target_from_bits(struct.unpack_from("<I", header, 72)[0])
    for k in range(1, 1000):
        cand = header[:76] + struct.pack("<I", (nonce + k) & 0xFFFFFFFF)
        digest = hashlib.sha256(hashlib.sha256(cand).digest()).digest()
        if int.from_bytes(digest, "little") <= target:
            return cand
    raise AssertionError("no sibling found in 1000 nonces at a regtest target")


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_tree_tie_goes_to_the_tip_seen_first(tree_inputs, data) -> None:
    """Two tips of equal work: Core keeps the one it received first, whatever the order."""
    import hashlib

    rows, network, want = tree_inputs[1]
    tip = next(r for r in rows
               if hashlib.sha256(hashlib.sha256(r).digest()).digest()[::-1].hex()
               == want["best_hash"])
    rival = _mine_sibling(tip)
    pool = rows + [rival]
    order = data.draw(st.permutations(range(len(pool))), label="order")
    arrived = [pool[i] for i in order]
    t, report = _tree(arrived, network)
    first = min(arrived.index(tip), arrived.index(rival))
    winner = hashlib.sha256(hashlib.sha256(arrived[first]).digest()).digest()[::-1].hex()
    assert report.best.tip_hash == winner
    assert report.best.tip_height == want["best_height"]


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(chunk_headers=st.one_of(st.integers(1, 50), st.integers(51, 12000)))
def test_verify_streamed_file_equals_whole_file(headers_dir, chunk_headers) -> None:
    """A reader's stream (bounded memory) verifies exactly like the file read whole."""
    from hashcore import chain, io

    path = headers_dir / "mainnet" / "mainnet_0_9999.bin"
    whole = chain.verify(path.read_bytes(), "mainnet", now=NOW).to_dict()
    streamed = chain.verify(io.iter_raw_chunks(path, chunk_headers=chunk_headers), "mainnet",
                            now=NOW).to_dict()
    assert streamed == whole
    assert whole["ok"] and whole["valid"] == 10_000 and whole["tip_height"] == 9999


# --------------------------------------------------------------------------- reader round trips

@pytest.fixture(scope="module")
def real_rows(headers_dir):
    raw = (headers_dir / "mainnet" / "mainnet_822528_830592.bin").read_bytes()[: 80 * 200]
    return [raw[i: i + 80] for i in range(0, len(raw), 80)]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data(), key=st.one_of(st.none(), st.binary(min_size=8, max_size=8)),
       files=st.integers(1, 3))
def test_blk_files_read_back_what_was_written(real_rows, data, key, files) -> None:
    """Blocks written as blk*.dat (any transaction sizes, any XOR key, several files) read
    back as exactly those headers, in file order."""
    import tempfile

    from hashcore import io
    from hashcore.params import get_params

    picks = data.draw(st.lists(st.sampled_from(real_rows), min_size=1, max_size=12))
    tx_lens = data.draw(st.lists(st.integers(1, 3000), min_size=len(picks),
                                 max_size=len(picks)))
    cut = sorted(data.draw(st.lists(st.integers(0, len(picks)), min_size=files - 1,
                                    max_size=files - 1)))
    bounds = [0, *cut, len(picks)]
    with tempfile.TemporaryDirectory() as tmp:
        blocks = Path(tmp) / "blocks"
        blocks.mkdir()
        if key is not None:
            (blocks / "xor.dat").write_bytes(key)
        for n, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
            if a == b:
                continue
            io.write_blk(blocks / f"blk{n:05d}.dat", list(zip(picks[a:b], tx_lens[a:b],
                                                               strict=True)),
                         get_params("mainnet"), xor_key=key, seed=n)
        got = io.read_headers(blocks)
    assert got.data == b"".join(picks)
    assert got.format == "blk"


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data(), per_line=st.integers(1, 4), upper=st.booleans())
def test_hex_text_reads_back_the_headers(real_rows, data, per_line, upper) -> None:
    from hashcore import io

    picks = data.draw(st.lists(st.sampled_from(real_rows), min_size=1, max_size=12))
    tokens = [h.hex().upper() if upper else h.hex() for h in picks]
    lines = [" ".join(tokens[i: i + per_line]) for i in range(0, len(tokens), per_line)]
    text = "# header dump\n" + "\n\n".join(lines) + "\n"
    assert io.parse_hex(text) == b"".join(picks)
