"""Parameter recovery: whether true values fall inside the posteriors' credible intervals.

Simulation-based calibration (Cook, Gelman and Rubin 2006; Talts et al. 2018): draw
theta_true from the prior, simulate synthetic data from it, compute the posterior given
those data, and repeat. For an exact posterior, the posterior CDF at theta_true is
uniform on [0, 1] over the repeats, so theta_true falls inside the central 90% credible
interval in 90% of them, whatever the data say. Coverage checks that the posterior is
*calibrated*, not that it is *informative*: the prior itself has the nominal coverage. The
ratio of posterior to prior sd says how much the data narrow each parameter.

A posterior held as n equally weighted draws covers a little less: the truth and the n
draws are exchangeable, so it falls between the sample's 5% and 95% quantiles with
probability about 0.9 n / (n + 1). For weighted particles n is their effective sample size
(Kish's ESS); ``expected`` is that share, and the band of counts a calibrated posterior
gives is computed at it (:func:`coverage`).

Everything here works on result tables only (the truths, the weighted particles of each
repeat's posterior, the prior sds), as ``normsim calibrate --recovery`` writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from normsim.analysis.intervals import wilson_interval


def weighted_quantile(values: np.ndarray, weights: np.ndarray,
                      q: float | Sequence[float]) -> np.ndarray:
    """Quantiles of a weighted sample: the inverse of its midpoint-interpolated CDF.

    Each particle holds the CDF's value at the middle of its own weight (Hazen's rule for
    weighted samples); with equal weights this is ``np.quantile(method="hazen")``.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(np.asarray(q, dtype=float), cdf, v)


def posterior_rank(values: np.ndarray, weights: np.ndarray, truth: float) -> float:
    """The weighted posterior CDF at ``truth`` (ties count half): uniform when calibrated."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    below = weights[values < truth].sum() + 0.5 * weights[values == truth].sum()
    return float(below / weights.sum())


def recovery_table(truths: Sequence[Mapping[str, float]], posteriors: Sequence[pd.DataFrame],
                   prior_sd: Mapping[str, float], level: float = 0.9) -> pd.DataFrame:
    """One row per repeat and parameter: the truth against the repeat's posterior.

    Args:
        truths: per repeat, the true value of each parameter.
        posteriors: per repeat, the weighted particles: one column per parameter, ``weight``.
        prior_sd: each parameter's prior standard deviation.
        level: the central credible interval's probability.

    Returns:
        Columns ``repeat``, ``parameter``, ``truth``, ``post_mean``, ``post_sd``,
        ``prior_sd``, ``sd_ratio`` (post_sd / prior_sd), ``low`` and ``high`` (the central
        interval, :func:`weighted_quantile`), ``inside``, ``rank`` (the posterior CDF at the
        truth), ``ess`` (Kish's effective sample size of the weights) and ``expected``
        (level x ess / (ess + 1): the chance a calibrated posterior of that many draws
        covers the truth).
    """
    tail = (1.0 - level) / 2.0
    rows = []
    for repeat, (truth, post) in enumerate(zip(truths, posteriors, strict=True)):
        w = post["weight"].to_numpy(dtype=float)
        ess = float(w.sum() ** 2 / (w**2).sum())
        for name, sd in prior_sd.items():
            x = post[name].to_numpy(dtype=float)
            mean = float((w * x).sum() / w.sum())
            post_sd = float(np.sqrt((w * (x - mean) ** 2).sum() / w.sum()))
            low, high = weighted_quantile(x, w, [tail, 1.0 - tail])
            value = float(truth[name])
            rows.append({"repeat": repeat, "parameter": name, "truth": value,
                         "post_mean": mean, "post_sd": post_sd, "prior_sd": float(sd),
                         "sd_ratio": post_sd / float(sd), "low": float(low),
                         "high": float(high), "inside": bool(low <= value <= high),
                         "rank": posterior_rank(x, w, value), "ess": ess,
                         "expected": level * ess / (ess + 1.0)})
    return pd.DataFrame(rows)


def nominal_band(repeats: int, level: float = 0.9, probability: float = 0.95) -> tuple[int, int]:
    """The counts inside that a calibrated method gives with ``probability``: Binomial(M, level).

    The central ``probability`` range of the binomial count: a coverage outside it is
    evidence (at 1 - ``probability``) that the intervals are not calibrated. ``level`` is
    the expected coverage (for finite posterior samples, ``expected`` of
    :func:`recovery_table`, a little below the nominal level).
    """
    tail = (1.0 - probability) / 2.0
    dist = stats.binom(repeats, level)
    return int(dist.ppf(tail)), int(dist.ppf(1.0 - tail))


def coverage(table: pd.DataFrame, level: float = 0.9,
             probability: float = 0.95) -> pd.DataFrame:
    """Per parameter: the share of repeats with the truth inside, and how much data narrow it.

    Columns: ``parameter``, ``repeats``, ``inside``, ``coverage`` with its 95% Wilson
    interval (``ci_low``, ``ci_high``), the coverage a calibrated posterior has with these
    particles (``expected``, the mean of the table's), the count band it gives in
    ``probability`` of studies (``band_low``, ``band_high``, :func:`nominal_band` at
    ``expected``) and whether the count is in it (``calibrated``), the mean and median of
    ``sd_ratio``, and the Kolmogorov-Smirnov p-value of the ranks against the uniform
    (``rank_ks_p``; a rough check, since the ranks of a finite sample are discrete).
    """
    rows = []
    for name, part in table.groupby("parameter", sort=False):
        m, k = len(part), int(part["inside"].sum())
        lo, hi = wilson_interval(k, m)
        expected = float(part["expected"].mean()) if "expected" in part else level
        band = nominal_band(m, expected, probability)
        rows.append({"parameter": name, "repeats": m, "inside": k, "coverage": k / m,
                     "ci_low": lo, "ci_high": hi, "expected": expected,
                     "band_low": band[0], "band_high": band[1],
                     "calibrated": band[0] <= k <= band[1],
                     "sd_ratio_mean": float(part["sd_ratio"].mean()),
                     "sd_ratio_median": float(part["sd_ratio"].median()),
                     "rank_ks_p": float(stats.kstest(part["rank"], "uniform").pvalue)})
    return pd.DataFrame(rows)
