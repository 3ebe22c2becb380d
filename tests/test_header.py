"""BlockHeader and the bulk header array, on real headers."""

from __future__ import annotations

import hashlib
import json
import struct

import numpy as np
import pytest

from hashcore.compact import bits_from_target
from hashcore.errors import InputError
from hashcore.header import (
    DIFF1_TARGET,
    HEADER_DTYPE,
    BlockHeader,
    difficulty_from_bits,
    header_array,
    header_bytes,
    headers_from_bytes,
    work_from_bits,
)


def _sha256d(b: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


@pytest.fixture(scope="module")
def mainnet(headers_dir):
    return (headers_dir / "mainnet" / "mainnet_0_9999.bin").read_bytes()


def test_genesis_files_parse_roundtrip_and_hash(headers_dir):
    for path in sorted(headers_dir.glob("*/*_genesis.bin")):
        raw = path.read_bytes()
        meta = json.loads(path.with_suffix(".json").read_text())
        h = BlockHeader.from_bytes(raw)
        assert h.to_bytes() == raw == bytes(h) == h.serialize()
        assert h.hash_hex == meta["expected_hashes"][0]
        assert h.hash == _sha256d(raw)[::-1]
        assert h.raw_hash == _sha256d(raw)
        assert h.prev_hash == bytes(32)
        assert h.check_pow()


def test_fields_match_struct_on_real_chain(mainnet):
    arr = header_array(mainnet)
    assert arr.dtype == HEADER_DTYPE and len(arr) == 10_000
    for i in (0, 1, 2015, 2016, 9999):
        v, prev, merkle, t, bits, nonce = struct.unpack_from("<i32s32sIII", mainnet, 80 * i)
        h = BlockHeader.from_bytes(mainnet[80 * i:80 * i + 80])
        assert (h.version, h.prev_hash, h.merkle_root, h.time, h.bits, h.nonce) == (
            v, prev, merkle, t, bits, nonce)
        assert arr["version"][i] == v and arr["time"][i] == t and arr["bits"][i] == bits
        assert arr["nonce"][i] == nonce and arr["prev_hash"][i].tobytes() == prev
        assert arr["merkle_root"][i].tobytes() == merkle
    # each header's prev_hash is the previous header's raw hash
    h1 = BlockHeader.from_bytes(mainnet[80:160])
    assert h1.prev_hash == BlockHeader.from_bytes(mainnet[:80]).raw_hash


def test_header_array_is_zero_copy(mainnet):
    buf = np.frombuffer(mainnet, dtype=np.uint8).reshape(-1, 80)
    arr = header_array(buf)
    assert np.shares_memory(arr, buf)
    assert np.shares_memory(header_bytes(arr), buf)
    ba = bytearray(mainnet[:800])
    view = header_array(ba)
    ba[68:72] = struct.pack("<I", 12345)  # writes through
    assert view["time"][0] == 12345


def test_header_array_rejects_bad_buffers():
    with pytest.raises(InputError, match="multiple of 80"):
        header_array(b"\x00" * 81)
    with pytest.raises(InputError, match="not str"):
        header_array("00" * 80)
    with pytest.raises(InputError):
        header_array(np.zeros(80, dtype=np.int32))


def test_target_difficulty_work():
    g = BlockHeader(1, bytes(32), bytes(32), 0, 0x1D00FFFF, 0)
    assert g.target == DIFF1_TARGET
    assert g.difficulty == 1.0
    assert g.work == work_from_bits(0x1D00FFFF) == (1 << 256) // (DIFF1_TARGET + 1)
    assert g.work == 0x100010001  # chainwork of one difficulty-1 block, as Core reports
    # Core's GetDifficulty for a modern block agrees with diff1 / target closely
    bits = 0x1704ED7F
    target = (0x04ED7F) << (8 * (0x17 - 3))
    assert difficulty_from_bits(bits) == pytest.approx(DIFF1_TARGET / target, rel=1e-12)
    assert g.with_target(DIFF1_TARGET >> 1).bits == bits_from_target(DIFF1_TARGET >> 1)


@pytest.mark.parametrize("bits,why", [(0x1D80FFFF, "negative"), (0xFF123456, "overflow"),
                                       (0x1D000000, "zero")])
def test_invalid_bits_flagged_not_accepted(bits, why):
    h = BlockHeader(1, bytes(32), bytes(32), 0, bits, 0)
    assert h.work == 0 and work_from_bits(bits) == 0
    assert not h.check_pow()
    with pytest.raises(InputError, match=why):
        _ = h.target
    comp = h.compact
    assert comp.negative or comp.overflow or comp.target == 0


def test_constructor_checks_fields():
    with pytest.raises(InputError):
        BlockHeader(1, bytes(31), bytes(32), 0, 0, 0)
    with pytest.raises(InputError):
        BlockHeader(1, bytes(32), bytes(32), -1, 0, 0)
    with pytest.raises(InputError):
        BlockHeader(1 << 31, bytes(32), bytes(32), 0, 0, 0)
    with pytest.raises(InputError):
        BlockHeader.from_bytes(bytes(79))
    with pytest.raises(InputError, match="not valid hex"):
        BlockHeader.from_hex("zz" * 80)


def test_immutable_and_replace(mainnet):
    h = BlockHeader.from_bytes(mainnet[:80])
    with pytest.raises(AttributeError):
        h.nonce = 1  # type: ignore[misc]
    h2 = h.replace(nonce=h.nonce + 1)
    assert h2.nonce == h.nonce + 1 and h2.hash != h.hash
    assert headers_from_bytes(mainnet[:240])[2] == BlockHeader.from_bytes(mainnet[160:240])
    assert BlockHeader.from_hex(mainnet[:80].hex()) == h
