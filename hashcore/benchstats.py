"""Summary statistics of benchmark samples, in the shape pytest-benchmark records them.

Kept apart from the timing loop so that the numbers can be checked by hand: quartiles use
Tukey's hinges for an even number of samples and the interpolated "method 3" for an odd
number (the convention pytest-benchmark uses, so our JSON agrees with what it would write).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Stats:
    """Location and spread of one row's samples (whatever unit the samples carry)."""

    min: float
    max: float
    mean: float
    median: float
    stddev: float  # sample standard deviation (n - 1); 0 for a single sample
    q1: float
    q3: float
    iqr: float
    ld15iqr: float  # lowest sample within 1.5 IQR below Q1
    hd15iqr: float  # highest sample within 1.5 IQR above Q3
    iqr_outliers: int
    stddev_outliers: int
    rounds: int
    total: float
    data: tuple[float, ...]

    def as_dict(self) -> dict:
        out = asdict(self)
        out["data"] = list(self.data)
        return out


def _median(sorted_values: list[float]) -> float:
    n = len(sorted_values)
    mid = n // 2
    if n % 2:
        return sorted_values[mid]
    return (sorted_values[mid - 1] + sorted_values[mid]) / 2


def quartiles(values: list[float]) -> tuple[float, float]:
    """(Q1, Q3): medians of the halves for even n; weighted neighbours for odd n."""
    s = sorted(values)
    n = len(s)
    if n == 0:
        raise ValueError("quartiles of no samples")
    if n == 1:
        return s[0], s[0]
    if n % 2 == 0:
        return _median(s[: n // 2]), _median(s[n // 2:])
    k, r = divmod(n, 4)  # n = 4k + 1 or 4k + 3
    if r == 1:
        return 0.25 * s[k - 1] + 0.75 * s[k], 0.75 * s[3 * k] + 0.25 * s[3 * k + 1]
    return 0.75 * s[k] + 0.25 * s[k + 1], 0.25 * s[3 * k + 1] + 0.75 * s[3 * k + 2]


def summarize(samples: list[float] | tuple[float, ...]) -> Stats:
    """Every statistic a row reports, from its raw samples (kept, in measured order)."""
    data = tuple(float(x) for x in samples)
    n = len(data)
    if n == 0:
        raise ValueError("no samples to summarize")
    s = sorted(data)
    mean = math.fsum(data) / n
    stddev = math.sqrt(math.fsum((x - mean) ** 2 for x in data) / (n - 1)) if n > 1 else 0.0
    q1, q3 = quartiles(s)
    iqr = q3 - q1
    low_fence, high_fence = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    inside = [x for x in s if low_fence <= x <= high_fence]
    return Stats(
        min=s[0], max=s[-1], mean=mean, median=_median(s), stddev=stddev,
        q1=q1, q3=q3, iqr=iqr,
        ld15iqr=inside[0] if inside else s[0], hd15iqr=inside[-1] if inside else s[-1],
        iqr_outliers=sum(1 for x in data if x < low_fence or x > high_fence),
        stddev_outliers=sum(1 for x in data if x < mean - stddev or x > mean + stddev),
        rounds=n, total=math.fsum(data), data=data,
    )
