"""Network hash rate from real header fields (time, bits), with a gamma confidence interval.

Why it works: at hash rate H, a block at difficulty D needs D * 2**32 hashes on average and the
wait for it is exponential with mean D * 2**32 / H. Over a window of n blocks the elapsed time
T is a sum of n exponentials, so H * T / (D * 2**32) ~ Gamma(n, 1). The point estimate is
``n * D * 2**32 / T`` = difficulty x 2**32 / observed mean interval, and the gamma quantiles give
the interval (equivalently chi-square with 2n degrees of freedom). When the difficulty changes
inside a window (the checkpoint file: one header per retarget boundary), the blocks' work
``sum(D_i) * 2**32`` replaces ``n * D * 2**32``; the relative interval still comes from n.

Only the header fields are read (``hashcore.header``): nothing here hashes.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from scipy import stats

from hashcore import io
from hashcore.asics import read_text_file
from hashcore.calibrate import NetworkEstimate, PeriodEstimate
from hashcore.errors import InputError, ReadError
from hashcore.header import HEADER_SIZE, difficulty_from_bits, header_array

# Blocks per difficulty period: Bitcoin Core's nPowTargetTimespan / nPowTargetSpacing
# (14 days / 10 minutes), src/kernel/chainparams.cpp.
RETARGET_INTERVAL = 2016
TWO_32 = 2.0 ** 32
DEFAULT_CONFIDENCE = 0.95
MIN_WINDOW_BLOCKS = 144  # shorter windows (a run's ragged ends) are too noisy to report


def utc_iso(timestamp: int) -> str:
    return datetime.fromtimestamp(int(timestamp), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def gamma_interval(blocks: int, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """Multipliers (low, high) of the rate estimate n/T for an equal-tailed interval.

    With T the time for n blocks, rate * T ~ Gamma(n, 1), so the interval for the rate is
    [gamma.ppf(a/2, n) / T, gamma.ppf(1 - a/2, n) / T]; dividing by the estimate n / T gives
    these multipliers.
    """
    if blocks < 1:
        raise InputError(f"need at least one block interval, got {blocks}")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence}")
    alpha = 1 - confidence
    lo = stats.gamma.ppf(alpha / 2, blocks) / blocks
    hi = stats.gamma.ppf(1 - alpha / 2, blocks) / blocks
    return float(lo), float(hi)


def _period_of(height: int) -> int:
    return height // RETARGET_INTERVAL


def estimate_window(start_height: int, start_time: int, start_bits: int,
                    end_height: int, end_time: int, end_bits: int,
                    confidence: float = DEFAULT_CONFIDENCE,
                    bits_between: int | None = None) -> PeriodEstimate:
    """The hash rate that mined blocks ``start_height+1 .. end_height``.

    Blocks in the retarget period of ``start_height`` carry ``start_bits`` (or ``bits_between``
    when given), the ones in the period of ``end_height`` carry ``end_bits``; a window may span
    at most two periods, since the bits of any period in between are unknown. The result's
    ``bits`` are those of the window's first block and ``difficulty`` is the mean over its
    blocks (for a window inside one period, exactly that period's difficulty).
    """
    blocks = end_height - start_height
    if blocks < 1:
        raise InputError(f"window {start_height}..{end_height} holds no blocks")
    elapsed = int(end_time) - int(start_time)
    if elapsed <= 0:
        raise InputError(f"window {start_height}..{end_height}: timestamps do not advance "
                         f"({utc_iso(start_time)} -> {utc_iso(end_time)})")
    p_start, p_end = _period_of(start_height), _period_of(end_height)
    first_bits = start_bits if bits_between is None else bits_between
    if p_end == p_start:
        difficulty_sum = blocks * difficulty_from_bits(first_bits)
    elif p_end == p_start + 1:
        in_first = (p_end * RETARGET_INTERVAL - 1) - start_height
        in_second = blocks - in_first
        difficulty_sum = (in_first * difficulty_from_bits(first_bits)
                          + in_second * difficulty_from_bits(end_bits))
    else:
        raise InputError(f"window {start_height}..{end_height} spans more than two retarget "
                         "periods; the difficulty in between is unknown")
    hashrate = difficulty_sum * TWO_32 / elapsed
    lo, hi = gamma_interval(blocks, confidence)
    return PeriodEstimate(
        start_height=int(start_height) + 1, end_height=int(end_height),
        start_time_utc=utc_iso(start_time), end_time_utc=utc_iso(end_time),
        bits=int(first_bits), difficulty=difficulty_sum / blocks, blocks=int(blocks),
        mean_interval_s=elapsed / blocks, hashrate_hs=hashrate,
        hashrate_low_hs=hashrate * lo, hashrate_high_hs=hashrate * hi)


def _anchors(heights: np.ndarray) -> list[int]:
    """Indices of the headers that close each window.

    Contiguous runs: the last header of each retarget period (and the first header, which only
    opens a window). Sparse series (the checkpoints): every header.
    """
    if heights.size < 2:
        return []
    contiguous = bool(np.all(np.diff(heights) == 1))
    if not contiguous:
        return list(range(heights.size))
    idx = [0]
    periods = heights // RETARGET_INTERVAL
    ends = np.nonzero(np.diff(periods) != 0)[0]  # last index of each period but the final one
    idx.extend(int(i) for i in ends if i != 0)
    if idx[-1] != heights.size - 1:
        idx.append(heights.size - 1)
    return idx


def estimate_network(buf, heights, confidence: float = DEFAULT_CONFIDENCE,
                     source: str = "", min_blocks: int = MIN_WINDOW_BLOCKS) -> NetworkEstimate:
    """Per-window hash rate history and the estimate at the tip from headers and their heights.

    ``buf`` is N*80 bytes (or an array ``header_array`` accepts); ``heights`` is N increasing
    heights, or the first height of a contiguous run. Windows of fewer than ``min_blocks``
    blocks (a run that stops just after a boundary) are left out of the history unless no
    window is that long, in which case the longest is kept. The tip estimate is the latest
    window kept; ``tip_height`` is the last header's height.
    """
    arr = header_array(buf)
    if arr.size < 2:
        raise InputError(f"need at least two headers to time blocks, got {arr.size}")
    if isinstance(heights, (int, np.integer)):
        hs = np.arange(int(heights), int(heights) + arr.size, dtype=np.int64)
    else:
        hs = np.asarray(list(heights), dtype=np.int64)
        if hs.shape != (arr.size,):
            raise InputError(f"{hs.size} heights for {arr.size} headers")
        if np.any(np.diff(hs) <= 0):
            bad = int(np.nonzero(np.diff(hs) <= 0)[0][0]) + 1
            raise InputError(f"heights must increase: index {bad} has {hs[bad]} after "
                             f"{hs[bad - 1]}")
    times = arr["time"].astype(np.int64)
    bits = arr["bits"].astype(np.int64)
    anchors = _anchors(hs)
    history: list[PeriodEstimate] = []
    contiguous = bool(np.all(np.diff(hs) == 1))
    for a, b in zip(anchors, anchors[1:], strict=False):
        # In a contiguous run the bits of block a+1 are known exactly.
        between = int(bits[a + 1]) if contiguous else None
        history.append(estimate_window(int(hs[a]), int(times[a]), int(bits[a]),
                                       int(hs[b]), int(times[b]), int(bits[b]),
                                       confidence, bits_between=between))
    kept = [p for p in history if p.blocks >= min_blocks]
    history = kept or [max(history, key=lambda p: p.blocks)]
    tip = history[-1]
    return NetworkEstimate(
        tip_height=int(hs[-1]), tip_time_utc=utc_iso(int(times[-1])),
        hashrate_hs=tip.hashrate_hs, hashrate_low_hs=tip.hashrate_low_hs,
        hashrate_high_hs=tip.hashrate_high_hs, confidence=confidence,
        difficulty=difficulty_from_bits(int(bits[-1])), history=history, source=source)


def read_heights_json(path: str | Path, count: int) -> int | list[int]:
    """Heights from a header file's JSON twin: ``heights`` (sparse) or ``first_height``."""
    path = Path(path)
    try:
        meta = json.loads(read_text_file(path))
    except json.JSONDecodeError as exc:
        raise ReadError(str(path), f"line {exc.lineno}", f"not JSON: {exc.msg}") from None
    if not isinstance(meta, dict):
        raise ReadError(str(path), "top level", "expected a JSON object")
    if "heights" in meta:
        heights = meta["heights"]
        if not isinstance(heights, list) or not all(
                isinstance(h, int) and not isinstance(h, bool) and h >= 0 for h in heights):
            raise ReadError(str(path), "field 'heights'", "expected a list of heights >= 0")
        if len(heights) != count:
            raise ReadError(str(path), "field 'heights'",
                            f"{len(heights)} heights for {count} headers")
        return heights
    first = meta.get("first_height")
    if not isinstance(first, int) or isinstance(first, bool) or first < 0:
        raise ReadError(str(path), "field 'first_height'",
                        "missing; give 'heights' or 'first_height'")
    return first


def read_header_file(path: str | Path) -> bytes:
    """Raw concatenated 80-byte headers, through the project's one raw reader."""
    return io.read_headers(path, format="raw").data


def estimate_from_files(headers_path: str | Path, heights_json: str | Path | None = None,
                        confidence: float = DEFAULT_CONFIDENCE) -> NetworkEstimate:
    """``estimate_network`` on a header file; the heights come from its ``.json`` twin."""
    headers_path = Path(headers_path)
    data = read_header_file(headers_path)
    twin = Path(heights_json) if heights_json else headers_path.with_suffix(".json")
    if not twin.exists():
        raise ReadError(str(headers_path), "heights",
                        f"no heights file {twin.name}; pass --heights-json")
    heights = read_heights_json(twin, len(data) // HEADER_SIZE)
    try:
        return estimate_network(data, heights, confidence, source=str(headers_path))
    except InputError as exc:
        if isinstance(exc, ReadError):
            raise
        raise ReadError(str(headers_path), "headers", str(exc)) from None
