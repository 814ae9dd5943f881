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


def format_posterior(summary: dict[str, Any], horizon: Any = None) -> str:
    """The summary as text lines."""
    by = f" by {horizon}" if horizon is not None else ""
    lo, hi = summary["pooled_ci"]
    dlo, dhi = summary["per_draw_interval"]
    total = summary["var_chance"] + summary["var_parameters"]
    share = summary["var_parameters"] / total if total > 0 else float("nan")
    return "\n".join([
        f"posterior-predictive P({summary['column']}{by}): {summary['pooled']:.3f} "
        f"(95% Wilson {lo:.3f}-{hi:.3f}; {summary['runs']} runs over {summary['draws']} "
        "draws)",
        f"  {summary['level']:.0%} credible interval of P over parameter draws: "
        f"{dlo:.3f}-{dhi:.3f}",
        f"  variance: run-to-run chance E[Var|theta] {summary['var_chance']:.4f}, parameter "
        f"uncertainty Var[E|theta] {summary['var_parameters']:.4f} ({share:.0%} of the "
        "total)",
    ])
