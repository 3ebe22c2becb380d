"""The slow, obvious header validator: one header at a time, struct + hashlib + Python ints.

This is the oracle for ``hashcore.chain.verify`` (tests require both to produce the same
report on every case) and the baseline of the speed benchmark. It follows Bitcoin Core's
pow.cpp / validation.cpp literally: GetNextWorkRequired walks back through earlier headers,
GetMedianTimePast sorts the last 11 times. It shares only the parameters, the report types,
the message wording and the retarget arithmetic (``calculate_next_work_required``, itself
tested against Core's published vectors) with the fast path.
"""

from __future__ import annotations

import hashlib
import struct
import time as _time

from hashcore.chain import (
    RULES,
    Anchor,
    Failure,
    NotChecked,
    VerifyReport,
    describe,
)
from hashcore.errors import InputError
from hashcore.header import BlockHeader
from hashcore.params import (
    MAX_TIMEWARP,
    MEDIAN_TIME_SPAN,
    NetworkParams,
    calculate_next_work_required,
    get_params,
)

_UNPACK = struct.Struct("<i32s32sIII").unpack


def _sha256d(data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(data).digest()).digest()


def _decode(bits: int) -> tuple[int, bool, bool]:
    size = bits >> 24
    word = bits & 0x007FFFFF
    value = word >> (8 * (3 - size)) if size <= 3 else word << (8 * (size - 3))
    negative = word != 0 and bool(bits & 0x00800000)
    overflow = word != 0 and (size > 34 or (word > 0xFF and size > 33)
                              or (word > 0xFFFF and size > 32))
    return value % (1 << 256), negative, overflow


def verify_reference(headers: bytes, network: str | NetworkParams = "mainnet",
                     start_height: int = 0, anchor=None, now: int | None = None) -> VerifyReport:
    """Same contract as ``hashcore.chain.verify`` for a bytes buffer; deliberately slow."""
    params = get_params(network)
    now = int(_time.time()) if now is None else int(now)
    data = bytes(headers)
    if len(data) % 80:
        raise InputError(f"header buffer is {len(data)} bytes, not a multiple of 80")
    interval = params.interval
    limit_bits = params.pow_limit_bits
    report = VerifyReport(network=params.name, start_height=start_height)
    if params.signet_challenge is not None:
        report.notes.append(
            "signet block signatures (BIP325) live in the coinbase and are not checked")

    # known[h] = (hash_raw, time, bits) for every earlier header we know in full
    known: dict[int, tuple[bytes, int, int]] = {}
    trusted_hash: bytes | None = None
    if anchor is None and start_height == 1:
        anchor = Anchor(headers=params.genesis_header)
    elif anchor is None and start_height > 0 and (start_height - 1) in params.checkpoints:
        anchor = Anchor(hash=params.checkpoints[start_height - 1])
    if isinstance(anchor, str):
        anchor = Anchor(hash=anchor)
    elif isinstance(anchor, (bytes, bytearray)):
        anchor = Anchor(headers=bytes(anchor))
    if anchor is not None:
        report.chainwork = anchor.chainwork
        if anchor.headers:
            raw = bytes(anchor.headers)
            count = len(raw) // 80
            for k in range(count):
                piece = raw[80 * k:80 * k + 80]
                _, _, _, t, b, _ = _UNPACK(piece)
                known[start_height - count + k] = (_sha256d(piece), t, b)
        if anchor.hash:
            trusted_hash = bytes.fromhex(anchor.hash)[::-1]
    complete_from_genesis = start_height == 0 or (start_height - len(known)) == 0

    not_checked: list[NotChecked] = []

    def skip(rule: str, height: int, why: str) -> None:
        for k, nc in enumerate(not_checked):
            if nc.rule == rule and nc.last_height == height - 1 and nc.why == why:
                not_checked[k] = NotChecked(rule, nc.first_height, height, why)
                return
        not_checked.append(NotChecked(rule, height, height, why))

    for i in range(len(data) // 80):
        piece = data[80 * i:80 * i + 80]
        version, prev, _merkle, t, b, _nonce = _UNPACK(piece)
        height = start_height + i
        digest = _sha256d(piece)
        report.count += 1
        failed: dict[str, dict] = {}

        if height == 0 and digest[::-1].hex() != params.genesis_hash:
            failed["genesis"] = {}
        # link
        if height > 0:
            parent = known.get(height - 1)
            parent_hash = parent[0] if parent else trusted_hash if i == 0 else None
            if parent_hash is None:
                skip("link", height, "the header before the window is not given")
            elif prev != parent_hash:
                failed["link"] = {"prev_hash": parent_hash[::-1].hex()}
        # bits validity and proof of work (Core CheckProofOfWork / DeriveTarget)
        target, negative, overflow = _decode(b)
        if negative or overflow or target == 0:
            failed["bits-invalid"] = {}
        elif target > params.pow_limit:
            failed["pow-limit"] = {}
        if int.from_bytes(digest, "little") > target:
            failed["pow"] = {}
        # expected bits (Core GetNextWorkRequired)
        if height > 0:
            last = known.get(height - 1)
            if height % interval == 0:
                first = known.get(height - interval)
                if params.enforce_bip94 and last is not None and t < last[1] - MAX_TIMEWARP:
                    failed["timewarp"] = {"prev_time": last[1]}
                elif params.enforce_bip94 and last is None:
                    skip("timewarp", height, "the header before the window is not given")
                if last is None or first is None:
                    skip("difficulty", height, "the retarget needs the period's first header "
                         f"(height {height - interval}), which is not given")
                else:
                    expected = calculate_next_work_required(params, last[2], last[1],
                                                            first[1], first[2])
                    if b != expected:
                        failed["difficulty"] = {"expected_bits": expected}
            elif last is None:
                skip("difficulty", height, "the bits before the window are not given")
            elif params.allow_min_difficulty:
                if t > last[1] + 2 * params.pow_target_spacing_s:
                    expected = limit_bits
                else:
                    h = height - 1
                    while h > 0 and h % interval != 0 and known[h][2] == limit_bits:
                        if (h - 1) not in known:
                            h = None
                            break
                        h -= 1
                    expected = known[h][2] if h is not None else None
                if expected is None:
                    skip("difficulty", height, "the bits before the window are not given")
                elif b != expected:
                    failed["difficulty"] = {"expected_bits": expected}
            elif b != last[2]:
                failed["difficulty"] = {"expected_bits": last[2]}
        # median time past (Core GetMedianTimePast)
        if height > 0:
            times = [known[h][1] for h in range(height - MEDIAN_TIME_SPAN, height) if h in known]
            if len(times) == MEDIAN_TIME_SPAN or (complete_from_genesis
                                                  and len(times) == min(height, 11)):
                times.sort()
                median = times[len(times) // 2]
                if t <= median:
                    failed["mtp"] = {"mtp": median}
            else:
                skip("mtp", height, "fewer than 11 earlier headers are given")
        if t > now + params.max_future_block_time_s:
            failed["future"] = {}
        if version < params.version_floor(height):
            failed["version"] = {}
        if height in params.checkpoints and digest[::-1].hex() != params.checkpoints[height]:
            failed["checkpoint"] = {}

        if failed:
            rules = [r for r in RULES if r in failed]
            header = BlockHeader.from_bytes(piece)
            got, expected = describe(rules[0], params, height, header,
                                     dict(failed[rules[0]], now=now))
            report.failure = Failure(height, digest[::-1].hex(), rules[0], got, expected,
                                     tuple(rules[1:]))
            report.count = len(data) // 80
            break
        known[height] = (digest, t, b)
        known.pop(height - interval - 1, None)  # bounded memory: a period and one more
        report.valid += 1
        report.tip_height = height
        report.tip_hash = digest[::-1].hex()
        if not (negative or overflow or target == 0):
            report.chainwork += (1 << 256) // (target + 1)
    report.not_checked = not_checked
    return report
