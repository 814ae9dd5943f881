"""Figures of a calibration folder: marginals against the priors, pairs, predictive check.

They read ``posterior.parquet``, ``predictive.csv`` and the priors described in
``metadata.json`` (``calibration.priors``); nothing here imports the runner or pyabc.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from normsim.plotting.style import new_figure, save


def prior_pdf(prior: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """The density of a prior described in metadata.json at ``x``."""
    if prior["kind"] == "uniform":
        return stats.uniform(prior["low"], prior["high"] - prior["low"]).pdf(x)
    a, b = (prior["low"] - prior["a"]) / prior["b"], (prior["high"] - prior["a"]) / prior["b"]
    return stats.truncnorm(a, b, loc=prior["a"], scale=prior["b"]).pdf(x)


def marginals(posterior: pd.DataFrame, priors: list[dict[str, Any]]) -> Figure:
    """One panel per parameter: the weighted posterior histogram and the prior density."""
    n = len(priors)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig = new_figure(2.6 * cols, 2.2 * rows)
    w = posterior["weight"].to_numpy()
    for i, p in enumerate(priors):
        ax = fig.add_subplot(rows, cols, i + 1)
        x = np.linspace(p["low"], p["high"], 200)
        ax.hist(posterior[p["name"]], bins=20, range=(p["low"], p["high"]), weights=w,
                density=True, color="#0072B2", alpha=0.7, label="posterior")
        ax.plot(x, prior_pdf(p, x), color="#D55E00", label="prior")
        ax.set_title(p["name"], fontsize=8)
        ax.tick_params(labelsize=6)
        if i == 0:
            ax.legend(fontsize=6)
    return fig


def pairs(posterior: pd.DataFrame, priors: list[dict[str, Any]]) -> Figure:
    """A pairs plot of the weighted posterior: scatter below, histograms on the diagonal."""
    names = [p["name"] for p in priors]
    n = len(names)
    fig = new_figure(1.3 * n + 1, 1.3 * n + 1)
    w = posterior["weight"].to_numpy()
    size = 2 + 30 * w / w.max()
    for i, yi in enumerate(names):
        for j, xj in enumerate(names):
            ax = fig.add_subplot(n, n, i * n + j + 1)
            ax.tick_params(labelsize=4)
            if i == j:
                ax.hist(posterior[xj], bins=15, weights=w, color="#0072B2")
            elif i > j:
                ax.scatter(posterior[xj], posterior[yi], s=size, alpha=0.4, color="#0072B2",
                           linewidths=0)
            else:
                ax.axis("off")
            if i == n - 1:
                ax.set_xlabel(xj, fontsize=5)
            if j == 0 and i > 0:
                ax.set_ylabel(yi, fontsize=5)
    return fig


def predictive(table: pd.DataFrame) -> Figure:
    """P(match) of each target (and of all at once) under the posterior and the prior."""
    wide = table.pivot(index="target", columns="under", values="p_match")
    order = [t for t in dict.fromkeys(table["target"])]
    wide = wide.loc[order]
    fig = new_figure(6, 0.35 * len(wide) + 1.2)
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(wide))
    for k, (under, colour) in enumerate((("prior", "#D55E00"), ("posterior", "#0072B2"))):
        if under in wide:
            ax.barh(y + (k - 0.5) * 0.4, wide[under], height=0.4, color=colour, label=under)
    ax.set_yticks(y, wide.index, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(match)")
    ax.legend(fontsize=6)
    return fig


def plot_calibration(folder: Path, meta: dict[str, Any], fmt: str = "png") -> list[Path]:
    """Draw the calibration figures of a folder into ``folder/figures``."""
    folder = Path(folder)
    posterior = pd.read_parquet(folder / "posterior.parquet")
    priors = meta["calibration"]["priors"]
    out = folder / "figures"
    out.mkdir(exist_ok=True)
    paths = [save(marginals(posterior, priors), out / f"marginals.{fmt}"),
             save(pairs(posterior, priors), out / f"pairs.{fmt}")]
    table = folder / "predictive.csv"
    if table.is_file():
        paths.append(save(predictive(pd.read_csv(table)), out / f"predictive.{fmt}"))
    return paths
