"""Discounting for monthly cash flows: NPV, IRR and payback, for one case or many paths.

Convention (one for the whole project): ``cash_flows[..., 0]`` happens now (the capital spent
up front, negative), ``cash_flows[..., k]`` at the end of month ``k``. Annual rates are
effective: a monthly rate ``r_m`` is ``(1 + r_year) ** (1/12) - 1``. Every function accepts a
1-D array (one case) or a 2-D array (paths x time) so Monte Carlo paths never loop in Python.
"""

from __future__ import annotations

import math

import numpy as np

from hashcore.errors import InputError

MONTHS_PER_YEAR = 12
# IRR search grid over x = log(1 + monthly rate): -10 % to +50 % a month, i.e. about -72 % to
# +12,800 % a year. A farm's IRR outside that range is reported as NaN.
_IRR_GRID_X = np.linspace(math.log(0.90), math.log(1.50), 64)


def monthly_rate(annual_rate: float) -> float:
    """Effective monthly rate equivalent to an effective ``annual_rate``."""
    if annual_rate <= -1:
        raise InputError(f"annual rate must be > -1, got {annual_rate}")
    return (1.0 + annual_rate) ** (1.0 / MONTHS_PER_YEAR) - 1.0


def annual_rate(monthly: float | np.ndarray) -> float | np.ndarray:
    """Effective annual rate equivalent to a monthly one."""
    return (1.0 + np.asarray(monthly, dtype=float)) ** MONTHS_PER_YEAR - 1.0


def npv(cash_flows: np.ndarray, annual_discount_rate: float) -> float | np.ndarray:
    """Net present value of monthly ``cash_flows`` at an annual effective discount rate."""
    cf = np.asarray(cash_flows, dtype=float)
    t = np.arange(cf.shape[-1])
    factors = (1.0 + monthly_rate(annual_discount_rate)) ** -t
    out = cf @ factors
    return float(out) if np.ndim(out) == 0 else out


def irr(cash_flows: np.ndarray) -> float | np.ndarray:
    """Annual effective IRR of monthly cash flows; NaN where there is none in the grid range.

    Vectorized for paths: NPV on a fixed grid of rates is one matrix product. The root taken
    is the highest rate where NPV turns from positive to negative (the only one for flows
    that change sign once; the economically meaningful one when late months lose money
    again). A secant step and two Newton steps inside that bracket polish it.
    """
    cf = np.atleast_2d(np.asarray(cash_flows, dtype=float))
    t = np.arange(cf.shape[1], dtype=float)
    grid = _IRR_GRID_X
    values = cf @ np.exp(-np.outer(t, grid))  # (paths, grid)
    positive = values > 0
    down = positive[:, :-1] & ~positive[:, 1:]  # + then - between grid k and k+1
    has_root = down.any(axis=1)
    last = down.shape[1] - 1 - np.argmax(down[:, ::-1], axis=1)
    rows = np.arange(cf.shape[0])
    xa, xb = grid[last], grid[last + 1]
    fa, fb = values[rows, last], values[rows, last + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(has_root, xa - fa * (xb - xa) / (fb - fa), 0.0)  # secant in the bracket
    for _ in range(2):  # Newton, kept inside the bracket
        disc = np.exp(-np.outer(x, t))
        disc *= cf
        f = disc.sum(axis=1)
        df = -(disc @ t)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_new = x - f / df
        x = np.where((x_new > xa) & (x_new < xb), x_new, x)
    out = np.where(has_root, np.expm1(x * MONTHS_PER_YEAR), np.nan)
    return float(out[0]) if np.ndim(cash_flows) == 1 else out


def payback_months(cash_flows: np.ndarray) -> float | np.ndarray:
    """Months until the cumulative (undiscounted) cash turns non-negative; NaN if never.

    Linear within the month it happens, so 12.5 means half way through month 13.
    """
    cf = np.atleast_2d(np.asarray(cash_flows, dtype=float))
    cum = np.cumsum(cf, axis=1)
    ok = cum >= 0
    reached = ok.any(axis=1)
    k = np.argmax(ok, axis=1)
    rows = np.arange(cf.shape[0])
    before = np.where(k > 0, cum[rows, np.maximum(k - 1, 0)], 0.0)
    step = cf[rows, k]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where((k > 0) & (step > 0), -before / step, 0.0)
    out = np.where(reached, np.maximum(k - 1, 0) + np.where(k > 0, frac, 0.0), np.nan)
    return float(out[0]) if np.ndim(cash_flows) == 1 else out
