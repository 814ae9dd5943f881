"""Posterior-predictive summaries from the runs table of ``normsim run --posterior``.

Each run has a ``draw_id`` (a parameter set drawn from the posterior). The chance of an
outcome then has two sources: the parameters (which draw) and the run (chance given the
draw). By the law of total variance, for a 0/1 outcome Y,
``Var(Y) = E[Var(Y | theta)] + Var(E[Y | theta])``: the first term is run-to-run chance,
the second is parameter uncertainty. Each draw's P is estimated from its m runs, so both
terms are corrected for that binomial noise (E[p(1-p)] scaled by m/(m-1); the spread of
the per-draw estimates less E[Var]/m). The interval of P over draws is that of the per-draw
estimates, which include the same noise: it is wider than the parameters alone make it
when m is small.

The headline tables (``normsim figures``): :func:`fan_table` (quantiles of the adopter
share per year over the posterior runs) and :func:`lever_table` (P per lever setting,
pooled with its Wilson interval and per draw). What the history pins down (notebook 04):
:func:`parameter_table` (each parameter's prior against its weighted posterior, the ratio
of their standard deviations), :func:`weighted_correlations` and
:func:`effective_sample_size`; they read ``posterior.parquet`` and the priors of
``metadata.json`` only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from normsim.analysis.intervals import wilson_interval


def posterior_probability(runs: pd.DataFrame, column: str = "cascade_reached",
                          level: float = 0.9) -> dict[str, Any]:
    """P(outcome) over the posterior: pooled (Wilson), per-draw interval, variance split."""
    y = runs[column].astype(float)
    per_draw = y.groupby(runs["draw_id"]).mean()
    k, n = int(y.sum()), len(y)
    lo, hi = wilson_interval(k, n)
    q = (1 - level) / 2
    m = float(y.groupby(runs["draw_id"]).size().mean())
    # per-draw P is estimated from m runs: correct both terms for that binomial noise
    within = float((per_draw * (1 - per_draw)).mean())
    chance = within * m / (m - 1) if m > 1 else within
    spread = float(per_draw.var(ddof=0)) if len(per_draw) > 1 else 0.0
    params = max(0.0, spread - chance / m) if m > 1 else spread
    return {"column": column, "runs": n, "draws": len(per_draw), "pooled": k / n if n else
            float("nan"), "pooled_ci": (lo, hi), "level": level,
            "per_draw_interval": (float(np.quantile(per_draw, q)),
                                  float(np.quantile(per_draw, 1 - q))),
            "var_chance": chance, "var_parameters": params}


OUTCOMES = {"cascade_reached": "cascade", "institutional_adoption": "institutional adoption"}
"""The words for an outcome column in the summary."""


def format_posterior(summary: dict[str, Any], horizon: Any = None, *,
                     brief: bool = False) -> str:
    """The summary as text lines (``brief``: without the variance split)."""
    by = f" by {horizon}" if horizon is not None else ""
    what = OUTCOMES.get(summary["column"], summary["column"])
    lo, hi = summary["pooled_ci"]
    dlo, dhi = summary["per_draw_interval"]
    total = summary["var_chance"] + summary["var_parameters"]
    share = summary["var_parameters"] / total if total > 0 else float("nan")
    k = round(summary["pooled"] * summary["runs"])
    lines = [
        f"{'posterior-predictive P(' + what + by + ')':<56}{summary['pooled']:6.1%}   "
        f"95% CI [{lo:.1%}, "
        f"{hi:.1%}]   ({k} of {summary['runs']} runs over {summary['draws']} draws)",
        f"  {summary['level']:.0%} credible interval of P over the parameter draws: "
        f"{dlo:.1%} to {dhi:.1%}",
    ]
    if not brief:
        lines.append(
            f"  variance: run-to-run chance E[Var|theta] {summary['var_chance']:.4f}, "
            f"parameter uncertainty Var[E|theta] {summary['var_parameters']:.4f} "
            f"({share:.0%} of the total)")
    return "\n".join(lines)


# --------------------------------------------------------------------------- headline tables

FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles of the posterior-predictive fan chart: the 90% band, the 50% band, the median."""


def fan_table(steps: pd.DataFrame, quantiles: tuple[float, ...] = FAN_QUANTILES,
              column: str = "adopter_share") -> pd.DataFrame:
    """Per year, quantiles of ``column`` over all runs (pooled over the draws), and its mean.

    Returns:
        One row per year: ``year``, ``runs``, ``mean``, and ``q05``, ``q25``, ... for each
        quantile (``q`` and the quantile in percent).
    """
    wide = steps.pivot(index="run_id", columns="year", values=column).astype(float)
    q = np.quantile(wide.to_numpy(), quantiles, axis=0)
    table = pd.DataFrame({"year": wide.columns.to_numpy(dtype=int),
                          "runs": wide.notna().sum().to_numpy(dtype=int),
                          "mean": wide.mean().to_numpy()})
    for level, row in zip(quantiles, q, strict=True):
        table[f"q{round(100 * level):02d}"] = row
    return table


def lever_table(runs: pd.DataFrame, outcome: str = "cascade_reached",
                level: float = 0.9) -> pd.DataFrame:
    """P(outcome) of each lever setting over the posterior: pooled, Wilson, and per draw.

    Args:
        runs: one row per run with ``lever`` (the lever moved, ``baseline`` for none),
            ``value`` (its value, as text), ``baseline`` (whether the setting is the
            scenario as written), ``draw_id`` and ``outcome``.
        outcome: the boolean outcome column.
        level: the level of the interval of P over the draws.

    Returns:
        One row per (lever, value), in the order they first appear: ``lever``, ``value``,
        ``baseline``, ``runs``, ``k``, ``p``, ``ci_low`` and ``ci_high`` (95% Wilson over the
        pooled runs: the posterior-predictive P), ``draws``, ``draw_low`` and ``draw_high``
        (the ``level`` interval of the per-draw P, which carries the binomial noise of the
        runs per draw as well as the parameters).
    """
    rows = []
    for (lever, value), part in runs.groupby(["lever", "value"], sort=False):
        y = part[outcome].astype(float)
        k, n = int(y.sum()), len(y)
        lo, hi = wilson_interval(k, n)
        per_draw = y.groupby(part["draw_id"]).mean()
        q = (1 - level) / 2
        rows.append({"lever": lever, "value": value, "baseline": bool(part["baseline"].all()),
                     "runs": n, "k": k, "p": k / n, "ci_low": lo, "ci_high": hi,
                     "draws": len(per_draw), "draw_low": float(np.quantile(per_draw, q)),
                     "draw_high": float(np.quantile(per_draw, 1 - q))})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the parameters


def prior_moments(prior: dict[str, Any]) -> tuple[float, float]:
    """Mean and sd of a prior as ``metadata.json`` describes it (uniform or truncated normal)."""
    from scipy import stats

    if prior["kind"] == "uniform":
        rv = stats.uniform(prior["low"], prior["high"] - prior["low"])
    else:
        a = (prior["low"] - prior["a"]) / prior["b"]
        b = (prior["high"] - prior["a"]) / prior["b"]
        rv = stats.truncnorm(a, b, loc=prior["a"], scale=prior["b"])
    return float(rv.mean()), float(rv.std())


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of weighted values (the inverse of the weighted ECDF)."""
    order = np.argsort(values)
    v, w = np.asarray(values, dtype=float)[order], np.asarray(weights, dtype=float)[order]
    cdf = np.cumsum(w) / w.sum()
    return float(v[min(np.searchsorted(cdf, q), len(v) - 1)])


def parameter_table(posterior: pd.DataFrame, priors: list[dict[str, Any]],
                    level: float = 0.9) -> pd.DataFrame:
    """What the history pins down: each parameter's prior against its weighted posterior.

    Args:
        posterior: ``posterior.parquet`` (one column per parameter, ``weight``).
        priors: ``metadata.json``'s ``calibration.priors``.
        level: the level of the credible interval.

    Returns:
        One row per parameter: ``parameter``, ``key``, ``prior_mean``, ``prior_sd``,
        ``posterior_mean``, ``posterior_sd``, ``sd_ratio`` (posterior sd over prior sd:
        near 1, the history says little about it; well below 1, it pins it down),
        ``ci_low`` and ``ci_high`` (the ``level`` equal-tailed credible interval).
    """
    w = posterior["weight"].to_numpy(dtype=float)
    w = w / w.sum()
    q = (1 - level) / 2
    rows = []
    for p in priors:
        x = posterior[p["name"]].to_numpy(dtype=float)
        mean = float((w * x).sum())
        sd = float(np.sqrt((w * (x - mean) ** 2).sum()))
        prior_mean, prior_sd = prior_moments(p)
        rows.append({"parameter": p["name"], "key": p["key"], "prior_mean": prior_mean,
                     "prior_sd": prior_sd, "posterior_mean": mean, "posterior_sd": sd,
                     "sd_ratio": sd / prior_sd if prior_sd > 0 else float("nan"),
                     "ci_low": weighted_quantile(x, w, q),
                     "ci_high": weighted_quantile(x, w, 1 - q)})
    return pd.DataFrame(rows)


def weighted_correlations(posterior: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The weighted posterior correlation matrix of the parameters (which trade off)."""
    w = posterior["weight"].to_numpy(dtype=float)
    cov = np.cov(posterior[names].to_numpy(dtype=float).T, aweights=w)
    sd = np.sqrt(np.diag(cov))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    return pd.DataFrame(corr, index=names, columns=names)


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights: (sum w)^2 / sum w^2."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w**2).sum())
