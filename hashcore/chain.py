"""Contextual validation of a header chain: every rule that headers alone allow, vectorized.

``verify(headers, network)`` checks, for every header, in Bitcoin Core's terms:

========== ============================================== ================================
rule        what                                            Core (reject reason)
========== ============================================== ================================
genesis     height 0 is the network's genesis header        (chainparams assert)
link        prev_hash is the hash of the header before      prev-blk-not-found
bits-invalid nBits is not negative, overflowing or zero      high-hash (DeriveTarget)
pow-limit   target <= powLimit                               high-hash (DeriveTarget)
difficulty  nBits == GetNextWorkRequired                     bad-diffbits
timewarp    BIP94: period's first block >= prev time - 600   time-timewarp-attack
mtp         time > median of the previous 11 times           time-too-old
future      time <= now + 2 h                                time-too-new
version     nVersion >= the BIP34/66/65 floor at the height  bad-version
checkpoint  the hash at a checkpoint height matches          checkpoint mismatch
pow         sha256d(header) <= target                        high-hash
========== ============================================== ================================

When several rules fail on one header the report names the first in this order (a mutated
header almost always fails ``pow`` too; that is listed in ``failure.also``).

Speed: headers are processed in chunks of ``CHUNK`` rows as numpy columns: hashing goes
through ``hashcore.hash_headers`` (the C core when built), proof of work is a compare of 4
64-bit words, links compare each prev_hash with the previous row's hash, MTP is checked
exactly only where a sliding 11-max says it could fail, and nBits are compared column-wise
except at retarget boundaries, which Python computes. State is carried between chunks, so a
file of any size is verified in bounded memory. ``hashcore.chain_reference`` is the slow,
obvious per-header oracle that tests compare against.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from hashcore.compact import decode_bits
from hashcore.core import hash_headers
from hashcore.errors import InputError
from hashcore.header import HEADER_SIZE, BlockHeader, header_array, header_bytes
from hashcore.params import (
    MAX_TIMEWARP,
    MEDIAN_TIME_SPAN,
    NetworkParams,
    calculate_next_work_required,
    get_params,
)

RULES = ("genesis", "link", "bits-invalid", "pow-limit", "difficulty", "timewarp", "mtp",
         "future", "version", "checkpoint", "pow")
CHUNK = 1 << 16  # headers per chunk: 5.2 MB of input, ~10 MB of working columns


@dataclass(frozen=True)
class Failure:
    """The first header that broke a rule, with both values."""

    height: int
    hash: str  # display hex
    rule: str
    got: str
    expected: str
    also: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        text = f"{self.rule}: {self.got}, expected {self.expected} at height {self.height}"
        if self.also:
            text += f" (also fails: {', '.join(self.also)})"
        return text

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict:
        return {"height": self.height, "hash": self.hash, "rule": self.rule, "got": self.got,
                "expected": self.expected, "also": list(self.also), "message": self.message}


@dataclass(frozen=True)
class NotChecked:
    """A rule that could not be checked for some heights (nothing before the window)."""

    rule: str
    first_height: int
    last_height: int
    why: str

    def __str__(self) -> str:
        span = (f"height {self.first_height}" if self.first_height == self.last_height
                else f"heights {self.first_height}..{self.last_height}")
        return f"{self.rule} at {span}: {self.why}"


@dataclass
class VerifyReport:
    """What ``verify`` found. ``chainwork`` counts the valid headers (plus the anchor's)."""

    network: str
    start_height: int
    count: int = 0  # headers read (including any after a failure)
    valid: int = 0  # headers that passed, from start_height on
    tip_height: int | None = None  # the last valid header
    tip_hash: str | None = None
    chainwork: int = 0
    failure: Failure | None = None
    not_checked: list[NotChecked] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None

    def to_dict(self) -> dict:
        return {"network": self.network, "ok": self.ok, "count": self.count,
                "valid": self.valid, "start_height": self.start_height,
                "tip_height": self.tip_height, "tip_hash": self.tip_hash,
                "chainwork": self.chainwork, "chainwork_hex": f"{self.chainwork:x}",
                "failure": self.failure.to_dict() if self.failure else None,
                "not_checked": [str(n) for n in self.not_checked], "notes": list(self.notes)}


@dataclass(frozen=True)
class Anchor:
    """What is known before ``start_height``: earlier headers and/or a trusted hash.

    ``headers``: the headers right before the window (the last one at start_height - 1);
    they are trusted, not re-verified. ``hash``: the display hex of the block at
    start_height - 1. ``chainwork``: work up to and including that block, added to the report.
    """

    hash: str | None = None
    headers: bytes | None = None
    chainwork: int = 0


# ----------------------------------------------------------------------------- messages

def _hx(raw_le: bytes) -> str:
    return bytes(raw_le)[::-1].hex()


def _bits_problem(bits: int, params: NetworkParams) -> tuple[str | None, str]:
    target, negative, overflow = decode_bits(bits)
    if negative:
        return "bits-invalid", "a negative target"
    if overflow:
        return "bits-invalid", "a target overflowing 256 bits"
    if target == 0:
        return "bits-invalid", "a zero target"
    if target > params.pow_limit:
        return "pow-limit", f"target <= powLimit {params.pow_limit:064x}"
    return None, ""


def describe(rule: str, params: NetworkParams, height: int, header: BlockHeader,
             context: dict) -> tuple[str, str]:
    """(got, expected) strings for a failed rule; shared by the fast and the slow validator."""
    if rule == "genesis":
        return f"hash {header.hash_hex}", f"the {params.name} genesis {params.genesis_hash}"
    if rule == "link":
        return f"prev_hash {header.prev_hash_hex}", f"{context['prev_hash']} (the block before)"
    if rule in ("bits-invalid", "pow-limit"):
        _, expected = _bits_problem(header.bits, params)
        return f"bits 0x{header.bits:08x}", expected
    if rule == "difficulty":
        return f"bits 0x{header.bits:08x}", f"0x{context['expected_bits']:08x}"
    if rule == "timewarp":
        return (f"time {header.time}",
                f">= {context['prev_time'] - MAX_TIMEWARP} (previous time - {MAX_TIMEWARP})")
    if rule == "mtp":
        return f"time {header.time}", f"> median-time-past {context['mtp']}"
    if rule == "future":
        now = context["now"]
        return (f"time {header.time}",
                f"<= {now + params.max_future_block_time_s} (now {now} + "
                f"{params.max_future_block_time_s} s)")
    if rule == "version":
        floor = params.version_floor(height)
        return f"version 0x{header.version & 0xFFFFFFFF:08x}", f">= {floor} at this height"
    if rule == "checkpoint":
        return f"hash {header.hash_hex}", f"checkpoint {params.checkpoints[height]}"
    if rule == "pow":
        return f"hash {header.hash_hex}", f"<= target {decode_bits(header.bits).target:064x}"
    raise InputError(f"unknown rule {rule}")


# ----------------------------------------------------------------------------- state

@dataclass
class _State:
    """What the next chunk needs from everything before it (None: not known)."""

    height: int
    last_hash: bytes | None = None  # raw order
    times: list[int] = field(default_factory=list)  # up to 11 latest times
    times_complete: bool = False  # ``times`` reaches back to genesis
    last_time: int | None = None
    last_bits: int | None = None
    last_regular_bits: int | None = None  # min-difficulty walk-back result
    period_first: tuple[int, int] | None = None  # (time, bits) of the current period's first
    chainwork: int = 0


def _state_from_anchor(params: NetworkParams, start_height: int, anchor) -> _State:
    state = _State(height=start_height)
    if anchor is None:
        if start_height == 0:
            state.times_complete = True
            return state
        if start_height == 1:
            anchor = Anchor(headers=params.genesis_header)
        elif (start_height - 1) in params.checkpoints:
            anchor = Anchor(hash=params.checkpoints[start_height - 1])
        else:
            return state
    if isinstance(anchor, str):
        anchor = Anchor(hash=anchor)
    elif isinstance(anchor, (bytes, bytearray, memoryview, np.ndarray)):
        anchor = Anchor(headers=bytes(header_bytes(anchor).tobytes()))
    if not isinstance(anchor, Anchor):
        raise InputError(f"anchor must be a hash hex, header bytes or Anchor, "
                         f"got {type(anchor).__name__}")
    state.chainwork = int(anchor.chainwork)
    if anchor.headers:
        rows = header_bytes(anchor.headers)
        count = len(rows)
        if count > start_height:
            raise InputError(f"anchor has {count} headers but the window starts at height "
                             f"{start_height}")
        first_height = start_height - count
        headers = [BlockHeader.from_bytes(r.tobytes()) for r in rows[-(params.interval + 1):]]
        base = start_height - len(headers)
        last = headers[-1]
        state.last_hash = last.raw_hash
        state.times = [h.time for h in headers[-MEDIAN_TIME_SPAN:]]
        state.times_complete = first_height == 0
        state.last_time, state.last_bits = last.time, last.bits
        period_start = (start_height - 1) - (start_height - 1) % params.interval
        if period_start >= base:
            first = headers[period_start - base]
            state.period_first = (first.time, first.bits)
        limit_bits = params.pow_limit_bits
        for k in range(len(headers) - 1, -1, -1):
            if (base + k) % params.interval == 0 or headers[k].bits != limit_bits:
                state.last_regular_bits = headers[k].bits
                break
    if anchor.hash is not None:
        try:
            raw = bytes.fromhex(anchor.hash)[::-1]
        except ValueError:
            raise InputError(f"anchor hash is not hex: {anchor.hash!r}") from None
        if len(raw) != 32:
            raise InputError(f"anchor hash must be 32 bytes (64 hex digits), got {len(raw)}")
        if state.last_hash is not None and state.last_hash != raw:
            raise InputError("anchor hash does not match the last anchor header")
        state.last_hash = raw
    return state


# ----------------------------------------------------------------------------- the verifier

class _Verifier:
    def __init__(self, params: NetworkParams, start_height: int, anchor, now: int) -> None:
        self.params = params
        self.now = now
        self.state = _state_from_anchor(params, start_height, anchor)
        self.report = VerifyReport(network=params.name, start_height=start_height,
                                   chainwork=self.state.chainwork)
        self._bits_cache: dict[int, tuple] = {}
        self._limit_bits = params.pow_limit_bits
        self._open_nc: dict[str, NotChecked] = {}

    # not-checked bookkeeping: consecutive heights merge into one range
    def _not_checked(self, rule: str, heights: Iterable[int], why: str) -> None:
        for h in heights:
            cur = self._open_nc.get(rule)
            if cur is not None and cur.last_height == h - 1 and cur.why == why:
                idx = self.report.not_checked.index(cur)
                cur = NotChecked(rule, cur.first_height, h, why)
                self.report.not_checked[idx] = cur
            else:
                cur = NotChecked(rule, h, h, why)
                self.report.not_checked.append(cur)
            self._open_nc[rule] = cur

    def _bits_info(self, bits: int) -> tuple:
        info = self._bits_cache.get(bits)
        if info is None:
            target, negative, overflow = decode_bits(bits)
            problem, _ = _bits_problem(bits, self.params)
            work = 0 if problem == "bits-invalid" else (1 << 256) // (target + 1)
            words = [(target >> (64 * k)) & 0xFFFFFFFFFFFFFFFF for k in range(4)]
            info = (problem, words, work)
            self._bits_cache[bits] = info
        return info

    def chunk(self, buf) -> bool:
        """Verify one chunk; False once a failure is recorded (later chunks are not valid)."""
        if self.report.failure is not None:
            self.report.count += len(header_bytes(buf))
            return False
        rows = header_bytes(buf)
        n = len(rows)
        if n == 0:
            return True
        self.report.count += n
        st, params = self.state, self.params
        h0 = st.height
        arr = header_array(rows)
        hashes = hash_headers(rows)
        hw = hashes.view("<u8")  # (n, 4) little-endian words, word 3 most significant
        times = arr["time"]
        bits = arr["bits"]
        fails: dict[str, np.ndarray] = {}
        context: dict[int, dict] = {}
        interval = params.interval

        # --- bits validity, pow limit and proof of work, per run of equal bits
        change = np.flatnonzero(bits[1:] != bits[:-1]) + 1
        starts = np.concatenate(([0], change))
        lengths = np.diff(np.concatenate((starts, [n])))
        run_bits = bits[starts].tolist()
        infos = [self._bits_info(b) for b in run_bits]
        tw3 = np.array([i[1][3] for i in infos], dtype=np.uint64)
        single_run = len(starts) == 1
        run_id = None if single_run else np.repeat(np.arange(len(starts)), lengths)
        bad_runs = [k for k, i in enumerate(infos) if i[0] is not None]
        if bad_runs:
            ids = run_id if run_id is not None else np.zeros(n, np.int64)
            for rule in ("bits-invalid", "pow-limit"):
                ks = [k for k in bad_runs if infos[k][0] == rule]
                if ks:
                    fails[rule] = np.isin(ids, ks)
        # hash <= target as 256-bit numbers: the top 64-bit word decides unless it ties
        h3 = hw[:, 3]
        t3 = tw3[0] if single_run else tw3[run_id]
        pow_fail = h3 > t3
        for k in np.flatnonzero(h3 == t3).tolist():
            words = infos[0 if single_run else int(run_id[k])][1]
            target = sum(int(words[w]) << (64 * w) for w in range(4))
            pow_fail[k] = int.from_bytes(hashes[k].tobytes(), "little") > target
        fails["pow"] = pow_fail

        # --- genesis and checkpoints
        if h0 == 0:
            g = np.zeros(n, bool)
            g[0] = _hx(hashes[0].tobytes()) != params.genesis_hash
            fails["genesis"] = g
        cps = [h for h in params.checkpoints if h0 <= h < h0 + n]
        if cps:
            c = np.zeros(n, bool)
            for h in cps:
                c[h - h0] = _hx(hashes[h - h0].tobytes()) != params.checkpoints[h]
            fails["checkpoint"] = c

        # --- links
        prev = rows[:, 4:36].view("<u8")
        link = np.zeros(n, bool)
        if n > 1:
            p, h = prev[1:], hw[:-1]
            link[1:] = ((p[:, 0] != h[:, 0]) | (p[:, 1] != h[:, 1]) | (p[:, 2] != h[:, 2])
                        | (p[:, 3] != h[:, 3]))
        if h0 == 0:
            pass  # genesis has no parent; its prev_hash is checked as part of "genesis"
        elif st.last_hash is not None:
            link[0] = rows[0, 4:36].tobytes() != st.last_hash
        else:
            self._not_checked("link", [h0], "the header before the window is not given")
        fails["link"] = link
        if n > 1:
            for i in np.flatnonzero(link[1:]).tolist()[:1]:
                context.setdefault(i + 1, {})["prev_hash"] = _hx(hashes[i].tobytes())
        if link[0] and h0 > 0:
            context.setdefault(0, {})["prev_hash"] = _hx(st.last_hash)

        # --- median time past: exact only where the sliding 11-max allows a failure
        m = len(st.times)
        ext = np.concatenate((np.asarray(st.times, dtype=np.uint32), times))
        smax = np.zeros(n, dtype=np.uint32)
        full_from = max(0, MEDIAN_TIME_SPAN - m)  # first row with 11 earlier times in ext
        if full_from < n:
            lo = full_from + m - MEDIAN_TIME_SPAN
            window_max = ext[lo:lo + n - full_from].copy()
            for k in range(1, MEDIAN_TIME_SPAN):
                np.maximum(window_max, ext[lo + k:lo + k + n - full_from], out=window_max)
            smax[full_from:] = window_max
        mtp = np.zeros(n, bool)
        cand = np.flatnonzero(times[full_from:] <= smax[full_from:]) + full_from
        if cand.size:
            win = np.lib.stride_tricks.sliding_window_view(ext, MEDIAN_TIME_SPAN)
            med = np.sort(win[cand + m - MEDIAN_TIME_SPAN], axis=1)[:, MEDIAN_TIME_SPAN // 2]
            bad = times[cand] <= med
            mtp[cand[bad]] = True
            for i, v in zip(cand[bad].tolist()[:1], med[bad].tolist()[:1], strict=True):
                context.setdefault(i, {})["mtp"] = int(v)
        unchecked = []
        for i in range(min(full_from, n)):
            if h0 + i == 0:
                continue
            if st.times_complete:
                window = sorted(ext[:m + i].tolist())
                value = window[len(window) // 2]
                if times[i] <= value:
                    mtp[i] = True
                    context.setdefault(i, {})["mtp"] = value
            else:
                unchecked.append(h0 + i)
        if unchecked:
            self._not_checked("mtp", unchecked, "fewer than 11 earlier headers are given")
        fails["mtp"] = mtp

        # --- future time
        fails["future"] = times > (self.now + params.max_future_block_time_s)

        # --- version floors
        floor_lo = params.version_floor(h0)
        floor_hi = params.version_floor(h0 + n - 1)
        versions = arr["version"]
        if floor_lo == floor_hi:
            fails["version"] = versions < floor_lo
        else:
            heights = np.arange(h0, h0 + n)
            floors = np.where(heights >= params.bip65_height, 4,
                              np.where(heights >= params.bip66_height, 3,
                                       np.where(heights >= params.bip34_height, 2,
                                                -(1 << 31))))
            fails["version"] = versions < floors

        # --- expected nBits (and BIP94 timewarp at boundaries)
        diff = np.zeros(n, bool)
        first_boundary = (-h0) % interval
        boundaries = list(range(first_boundary, n, interval))
        if h0 == 0 and boundaries and boundaries[0] == 0:
            boundaries = boundaries[1:]  # genesis: no rule
        unknown_bits: list[int] = []
        row0_rule = h0 > 0 and first_boundary != 0  # row 0 follows the ordinary rule
        if row0_rule and st.last_bits is None:
            row0_rule = False
            unknown_bits.append(h0)
        if not params.allow_min_difficulty:
            # bits may change only at a boundary: only the rows where they change can fail
            changed = change[(change + h0) % interval != 0]
            diff[changed] = True
            if row0_rule and int(bits[0]) != st.last_bits:
                diff[0] = True
            for i in np.flatnonzero(diff).tolist()[:1]:
                context.setdefault(i, {})["expected_bits"] = int(
                    bits[i - 1] if i > 0 else st.last_bits)
        else:
            nonboundary = np.ones(n, bool)
            nonboundary[first_boundary::interval] = False
            if not row0_rule:
                nonboundary[0] = False
            prev_time = np.empty(n, dtype=np.int64)
            prev_time[1:] = times[:-1]
            prev_time[0] = st.last_time if st.last_time is not None else 0
            min_ok = times.astype(np.int64) > prev_time + 2 * params.pow_target_spacing_s
            regular = bits != self._limit_bits
            regular[first_boundary::interval] = True
            idx = np.where(regular, np.arange(n), -1)
            np.maximum.accumulate(idx, out=idx)
            # expected for row i (not a min-difficulty block): last regular bits up to row i-1
            walk = np.empty(n, dtype=np.int64)
            walk[1:] = idx[:-1]
            walk[0] = -1
            carried = st.last_regular_bits
            expected_nb = np.where(walk >= 0, bits[np.maximum(walk, 0)],
                                   carried if carried is not None else 0).astype(np.uint32)
            expected_nb = np.where(min_ok, self._limit_bits, expected_nb).astype(np.uint32)
            if carried is None:
                unknown = nonboundary & (walk < 0) & ~min_ok
                unknown_rows = np.flatnonzero(unknown)
                if unknown_rows.size:
                    nonboundary = nonboundary & ~unknown
                    unknown_bits.extend((unknown_rows + h0).tolist())
            diff = nonboundary & (bits != expected_nb)
            for i in np.flatnonzero(diff).tolist()[:1]:
                context.setdefault(i, {})["expected_bits"] = int(expected_nb[i])
        if unknown_bits:
            self._not_checked("difficulty", sorted(unknown_bits),
                              "the bits before the window are not given")
        timewarp = np.zeros(n, bool) if params.enforce_bip94 else None
        for i in boundaries:
            h = h0 + i
            last_time = int(times[i - 1]) if i > 0 else st.last_time
            last_bits = int(bits[i - 1]) if i > 0 else st.last_bits
            if i >= interval:
                first = (int(times[i - interval]), int(bits[i - interval]))
            else:
                first = st.period_first
            if timewarp is not None and last_time is not None:
                if int(times[i]) < last_time - MAX_TIMEWARP:
                    timewarp[i] = True
                    context.setdefault(i, {})["prev_time"] = last_time
            if last_bits is None or first is None:
                self._not_checked("difficulty", [h], "the retarget needs the period's first "
                                  f"header (height {h - interval}), which is not given")
                continue
            expected = calculate_next_work_required(params, last_bits, last_time, first[0],
                                                    first[1])
            if int(bits[i]) != expected:
                diff[i] = True
                context.setdefault(i, {})["expected_bits"] = expected
        if timewarp is not None:
            if h0 > 0 and first_boundary == 0 and st.last_time is None:
                self._not_checked("timewarp", [h0], "the header before the window is not given")
            fails["timewarp"] = timewarp
        fails["difficulty"] = diff

        # --- first failure
        any_fail = pow_fail.copy()
        for mask in fails.values():
            any_fail |= mask
        first_bad = int(np.argmax(any_fail)) if any_fail.any() else n
        valid = first_bad
        # chainwork of the valid prefix, run by run
        work = 0
        for k, start in enumerate(starts.tolist()):
            if start >= valid:
                break
            work += infos[k][2] * (min(start + int(lengths[k]), valid) - start)
        self.report.chainwork += work
        self.report.valid += valid
        if valid:
            self.report.tip_height = h0 + valid - 1
            self.report.tip_hash = _hx(hashes[valid - 1].tobytes())
        if first_bad < n:
            failing = [r for r in RULES if r in fails and fails[r][first_bad]]
            header = BlockHeader.from_bytes(rows[first_bad].tobytes())
            ctx = dict(context.get(first_bad, {}), now=self.now)
            got, expected = describe(failing[0], params, h0 + first_bad, header, ctx)
            self.report.failure = Failure(h0 + first_bad, header.hash_hex, failing[0], got,
                                          expected, tuple(failing[1:]))
            self._trim_not_checked(h0 + first_bad)
            return False

        # --- carry the state to the next chunk
        st.height = h0 + n
        st.last_hash = hashes[-1].tobytes()
        st.times = ext[-MEDIAN_TIME_SPAN:].tolist()
        st.times_complete = st.times_complete and len(ext) <= MEDIAN_TIME_SPAN
        st.last_time, st.last_bits = int(times[-1]), int(bits[-1])
        if boundaries or first_boundary < n:
            r = ((n - 1 - first_boundary) // interval) * interval + first_boundary
            if 0 <= r < n:
                st.period_first = (int(times[r]), int(bits[r]))
        if params.allow_min_difficulty:
            last_reg = int(idx[-1])
            if last_reg >= 0:
                st.last_regular_bits = int(bits[last_reg])
        return True

    def _trim_not_checked(self, failed_height: int) -> None:
        """Heights after the failure were not verified at all: drop them from not_checked."""
        kept = []
        for nc in self.report.not_checked:
            if nc.first_height > failed_height:
                continue
            kept.append(NotChecked(nc.rule, nc.first_height,
                                   min(nc.last_height, failed_height), nc.why))
        self.report.not_checked = kept


def _chunks(headers, chunk: int) -> Iterable:
    if hasattr(headers, "data") and hasattr(headers, "in_order"):  # an io.HeaderInput
        if not headers.in_order:
            raise InputError("these headers are not in height order (blk files or a JSON "
                             "list): put them through HeaderTree instead")
        headers = headers.data
    if isinstance(headers, (bytes, bytearray, memoryview, np.ndarray)):
        rows = header_bytes(headers)
        for start in range(0, len(rows), chunk):
            yield rows[start:start + chunk]
    elif isinstance(headers, (list, tuple)) and headers and all(
            isinstance(h, BlockHeader) for h in headers):
        rows = header_bytes(b"".join(h.to_bytes() for h in headers))
        for start in range(0, len(rows), chunk):
            yield rows[start:start + chunk]
    elif isinstance(headers, str):
        raise InputError("headers must be bytes or an iterable of byte chunks, not str "
                         "(read files with hashcore.io)")
    else:
        for part in headers:
            if isinstance(part, BlockHeader):
                part = part.to_bytes()
            rows = header_bytes(part)
            for start in range(0, len(rows), chunk):
                yield rows[start:start + chunk]


def verify(headers, network: str | NetworkParams = "mainnet", start_height: int = 0,
           anchor=None, now: int | None = None, *, chunk: int = CHUNK,
           progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Verify a contiguous run of headers that starts at ``start_height``.

    ``headers``: N*80 bytes, an (N, 80) uint8 array, what ``io.read_headers`` returns, or an
    iterable of such chunks (a reader's stream: the file is never held whole). ``anchor``:
    what precedes the window (an ``Anchor``, the earlier headers as bytes, or the display hex
    of the block before); without one, the rules that need earlier headers are listed in
    ``report.not_checked``, never as failures. Windows starting at height 1 or right after a
    checkpoint anchor themselves. ``now`` (unix seconds) defaults to the clock. Stops at the
    first failure.
    """
    params = get_params(network)
    if not isinstance(start_height, int) or start_height < 0:
        raise InputError(f"start_height must be a non-negative integer, got {start_height!r}")
    if chunk < 1:
        raise InputError("chunk must be at least 1")
    now = int(_time.time()) if now is None else int(now)
    verifier = _Verifier(params, start_height, anchor, now)
    if params.signet_challenge is not None:
        verifier.report.notes.append(
            "signet block signatures (BIP325) live in the coinbase and are not checked")
    for part in _chunks(headers, chunk):
        verifier.chunk(part)
        if progress is not None:
            progress(verifier.report.count)
    return verifier.report


def hash_chain(headers) -> np.ndarray:
    """(N, 32) raw hashes of a header buffer (a convenience over hash_headers)."""
    return hash_headers(header_bytes(headers))


__all__ = ["Anchor", "Failure", "NotChecked", "RULES", "VerifyReport", "verify",
           "HEADER_SIZE", "hash_chain"]
