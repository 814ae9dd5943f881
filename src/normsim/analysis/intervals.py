"""Intervals and percentiles of outcomes over runs: the numbers every summary reports."""

from __future__ import annotations

import numpy as np
import pandas as pd


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # The interval holds p; rounding can leave centre + half a hair below 1 when p = 1.
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def probability_line(label: str, flags: pd.Series) -> str:
    """One line: the share of runs in which ``flags`` holds, its 95% interval, the counts."""
    k, n = int(flags.sum()), len(flags)
    lo, hi = wilson_interval(k, n)
    return f"{label:<34}{k / n:6.1%}   95% CI [{lo:.1%}, {hi:.1%}]   ({k} of {n} runs)"




def quantiles(values: pd.Series, fmt: str = ".3f") -> str:
    """5/25/50/75/95th percentiles of the non-missing values, or "none"."""
    values = values.dropna().astype(float)
    if values.empty:
        return "none"
    q = np.percentile(values, [5, 25, 50, 75, 95])
    return "  ".join(f"{p}%: {v:{fmt}}" for p, v in zip((5, 25, 50, 75, 95), q, strict=True))
