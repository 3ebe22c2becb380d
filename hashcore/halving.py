"""The block subsidy schedule: what a block pays its miner at a given height.

Consensus facts (Bitcoin Core ``GetBlockSubsidy`` in src/validation.cpp, checked 2026): the
subsidy starts at 50 BTC and halves every 210,000 blocks (``consensus.nSubsidyHalvingInterval``)
by a right shift of the satoshi amount; from the 64th halving on it is zero. Height 840,000
(mined 2024-04-20) opened the fourth era at 3.125 BTC; 1,050,000 opens the fifth at 1.5625 BTC.
Blocks are targeted at one per 600 s (``nPowTargetSpacing``), 144 a day.

Integer satoshis throughout, so sums over heights are exact.
"""

from __future__ import annotations

import numpy as np

from hashcore.errors import InputError
from hashcore.params import MAINNET

SATOSHI_PER_BTC = 100_000_000
INITIAL_SUBSIDY_SAT = 50 * SATOSHI_PER_BTC
HALVING_INTERVAL_BLOCKS = 210_000
TARGET_BLOCK_SPACING_S = MAINNET.pow_target_spacing_s  # 600
BLOCKS_PER_DAY = 86_400 // TARGET_BLOCK_SPACING_S  # 144
_LAST_ERA = 64  # Core: halvings >= 64 -> subsidy 0 (a shift by 64 is undefined in C++)


def _check_height(height: int) -> int:
    if isinstance(height, bool) or not isinstance(height, (int, np.integer)):
        raise InputError(f"block height must be an integer, got {type(height).__name__}")
    if height < 0:
        raise InputError(f"block height must be >= 0, got {height}")
    return int(height)


def subsidy_sat(height: int) -> int:
    """The block subsidy in satoshis at ``height`` (fees not included)."""
    era = _check_height(height) // HALVING_INTERVAL_BLOCKS
    return 0 if era >= _LAST_ERA else INITIAL_SUBSIDY_SAT >> era


def subsidy_btc(height: int) -> float:
    """The block subsidy in BTC at ``height``."""
    return subsidy_sat(height) / SATOSHI_PER_BTC


def subsidy_sum_sat(start_height: int, end_height: int) -> int:
    """Total subsidy of blocks ``start_height <= h < end_height`` in satoshis, era by era."""
    lo, hi = _check_height(start_height), _check_height(end_height)
    if hi < lo:
        raise InputError(f"end height {hi} is below start height {lo}")
    total = 0
    h = lo
    while h < hi:
        era_end = (h // HALVING_INTERVAL_BLOCKS + 1) * HALVING_INTERVAL_BLOCKS
        upto = min(hi, era_end)
        total += (upto - h) * subsidy_sat(h)
        h = upto
    return total


def subsidy_sums_btc(boundaries: np.ndarray) -> np.ndarray:
    """Subsidy in BTC paid between consecutive heights of ``boundaries`` (length n+1 -> n)."""
    edges = [int(b) for b in np.asarray(boundaries)]
    return np.array([subsidy_sum_sat(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)],
                    dtype=np.float64) / SATOSHI_PER_BTC


def next_halving_height(height: int) -> int:
    """The first height strictly after ``height`` where the subsidy halves."""
    return (_check_height(height) // HALVING_INTERVAL_BLOCKS + 1) * HALVING_INTERVAL_BLOCKS
