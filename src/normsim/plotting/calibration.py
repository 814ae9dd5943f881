"""Figures of a calibration folder: marginals against the priors, pairs, predictive check.

They read ``posterior.parquet``, ``predictive.csv`` and the priors described in
``metadata.json`` (``calibration.priors``); nothing here imports the runner or pyabc.
The checks of the calibration have theirs: the hold-out (``holdout.csv``), the model
choice (``model_probabilities.csv``, ``posteriors.parquet``) and parameter recovery
(``recovery.csv``, ``recovery_summary.csv``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy import stats

from normsim.plotting.style import PALETTE, new_figure, save


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
    return paths + plot_holdout(folder, fmt)


# ------------------------------------------------------------ checks of the calibration


def holdout(table: pd.DataFrame) -> Figure:
    """Each held-out target's P(match): given the fitted record, in new runs, under the prior.

    Reads ``holdout.csv``. The conditional bar is the posterior-predictive p-value of the
    record (it holds every held-out pattern); the dotted line is p = 0.05. Whiskers: 95%
    intervals of the Monte Carlo estimates.
    """
    fig = new_figure(6.5, 0.45 * len(table) + 1.4)
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(table))
    bars = (("p_prior", "prior", "#D55E00"), ("p_posterior", "posterior, new runs", "#56B4E9"),
            ("p_conditional", "posterior, given the fitted record (= p-value)", "#0072B2"))
    for k, (column, label, colour) in enumerate(bars):
        ax.barh(y + (k - 1) * 0.27, table[column], height=0.27, color=colour, label=label)
    for k, column in ((0, "p_posterior"), (1, "p_conditional")):
        if f"{column}_low" not in table:
            continue
        err = np.vstack([table[column] - table[f"{column}_low"],
                         table[f"{column}_high"] - table[column]])
        ax.errorbar(table[column], y + k * 0.27, xerr=err, fmt="none", ecolor="#333333",
                    elinewidth=0.8, capsize=2)
    ax.axvline(0.05, color="#333333", linestyle=":", linewidth=1)
    ax.set_yticks(y, table["target"], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("P(match) of the held-out pattern")
    ax.legend(fontsize=6, loc="lower right")
    return fig


def model_probabilities(table: pd.DataFrame, evidence: pd.DataFrame | None = None) -> Figure:
    """Each model's posterior probability by generation (``model_probabilities.csv``).

    With ``evidence`` (``model_evidence.csv``), the direct estimate from prior simulation
    is drawn to the right of the last generation (diamonds). Whiskers: 95% intervals.
    """
    fig = new_figure(6.5, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    wide = table.pivot(index="generation", columns="model", values="probability")
    direct = None if evidence is None else evidence.set_index("model")
    right = float(wide.index.max()) + 0.6
    models = list(dict.fromkeys(table["model"]))
    for k, name in enumerate(models):
        colour = PALETTE[k % len(PALETTE)]
        nudge = (k - (len(models) - 1) / 2) * 0.06
        label = f"{name} ({wide[name].iloc[-1]:.2f}"
        if direct is not None:
            row = direct.loc[name]
            # the Jeffreys interval of a zero count lies above its estimate 0: clip
            below = max(0.0, row["probability"] - row.get("probability_low", np.nan))
            above = max(0.0, row.get("probability_high", np.nan) - row["probability"])
            ax.errorbar([right + nudge], [row["probability"]], fmt="D", color=colour,
                        yerr=[[below], [above]], capsize=2, markersize=5)
            label += f"; direct {row['probability']:.2f}"
        part = table[table["model"] == name]
        ax.plot(part["generation"] + nudge, part["probability"], marker="o", color=colour,
                label=label + ")")
        if "probability_low" in part:
            ax.errorbar(part["generation"] + nudge, part["probability"], fmt="none",
                        ecolor=colour, capsize=2,
                        yerr=[(part["probability"] - part["probability_low"]).clip(lower=0),
                              (part["probability_high"] - part["probability"]).clip(lower=0)])
    ax.set_ylim(0, 1)
    ticks = list(wide.index)
    ax.set_xticks(ticks + ([right] if direct is not None else []),
                  [str(t) for t in ticks] + (["direct"] if direct is not None else []))
    ax.set_xlabel("ABC-SMC generation (epsilon falls); direct: prior simulation")
    ax.set_ylabel("P(model | record)")
    ax.legend(fontsize=7)
    return fig


def recovery(table: pd.DataFrame, summary: pd.DataFrame, level: float = 0.9) -> Figure:
    """Coverage of the credible intervals per parameter, and how much the data narrow each.

    Left: the share of repeats with the truth inside the central ``level`` interval, its
    95% Wilson interval, the nominal level, the coverage a calibrated posterior has with
    this many particles (expected) and the band of shares it gives in 95% of studies
    (shaded). Right: posterior sd over prior sd in each repeat (1: no narrowing).
    """
    names = list(summary["parameter"])
    n = len(names)
    fig = new_figure(9, 0.32 * n + 1.6)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    y = np.arange(n)
    m = summary["repeats"].to_numpy()
    low, high = summary["band_low"] / m, summary["band_high"] / m
    left.barh(y, high - low, left=low, height=0.6, color="#BBBBBB", alpha=0.6,
              label="calibrated: 95% band")
    left.scatter(summary["expected"], y, marker="|", s=120, color="#333333",
                 label="expected (finite particles)")
    left.axvline(level, color="#333333", linewidth=1, linestyle=":",
                 label=f"nominal {level:.0%}")
    err = np.vstack([summary["coverage"] - summary["ci_low"],
                     summary["ci_high"] - summary["coverage"]])
    left.errorbar(summary["coverage"], y, xerr=err, fmt="o", color="#0072B2", capsize=2,
                  label="coverage, 95% interval")
    left.set_yticks(y, names, fontsize=7)
    left.invert_yaxis()
    left.set_xlim(0, 1.02)
    left.set_xlabel(f"truth inside the {level:.0%} interval (M = {int(m.max())})")
    left.legend(fontsize=6, loc="lower left")
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(table))
    rows = table["parameter"].map({name: i for i, name in enumerate(names)})
    right.scatter(table["sd_ratio"], rows + jitter, s=8, alpha=0.5, color="#0072B2",
                  linewidths=0)
    right.scatter(summary["sd_ratio_mean"], y, marker="|", s=200, color="#D55E00",
                  label="mean")
    right.axvline(1.0, color="#333333", linewidth=1)
    right.set_yticks(y, [""] * n)
    right.invert_yaxis()
    right.set_xlim(0, max(1.1, float(table["sd_ratio"].max()) * 1.05))
    right.set_xlabel("posterior sd / prior sd")
    right.legend(fontsize=6, loc="lower left")
    return fig


def recovery_truths(table: pd.DataFrame) -> Figure:
    """Per parameter: the posterior mean and central interval of each repeat against the truth."""
    names = list(dict.fromkeys(table["parameter"]))
    n = len(names)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig = new_figure(2.6 * cols, 2.3 * rows)
    for i, name in enumerate(names):
        part = table[table["parameter"] == name]
        ax = fig.add_subplot(rows, cols, i + 1)
        colour = np.where(part["inside"], "#0072B2", "#D55E00")
        ax.vlines(part["truth"], part["low"], part["high"], colors=colour, linewidth=0.8)
        ax.scatter(part["truth"], part["post_mean"], s=8, c=colour, linewidths=0)
        lo = float(min(part["truth"].min(), part["low"].min()))
        hi = float(max(part["truth"].max(), part["high"].max()))
        ax.plot([lo, hi], [lo, hi], color="#333333", linewidth=0.6)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
        if i % cols == 0:
            ax.set_ylabel("posterior", fontsize=7)
        if i >= n - cols:
            ax.set_xlabel("truth", fontsize=7)
    return fig


def plot_holdout(folder: Path, fmt: str = "png") -> list[Path]:
    """Draw ``figures/holdout.png`` from ``holdout.csv`` (nothing if there is none)."""
    folder = Path(folder)
    table = folder / "holdout.csv"
    if not table.is_file():
        return []
    (folder / "figures").mkdir(exist_ok=True)
    return [save(holdout(pd.read_csv(table)), folder / "figures" / f"holdout.{fmt}")]


def plot_model_choice(folder: Path, meta: dict[str, Any], fmt: str = "png") -> list[Path]:
    """Draw a model choice's figures: the model probabilities, each live model's marginals."""
    folder = Path(folder)
    out = folder / "figures"
    out.mkdir(exist_ok=True)
    evidence = folder / "model_evidence.csv"
    paths = [save(model_probabilities(pd.read_csv(folder / "model_probabilities.csv"),
                                      pd.read_csv(evidence) if evidence.is_file() else None),
                  out / f"model_probabilities.{fmt}")]
    posteriors = pd.read_parquet(folder / "posteriors.parquet")
    for member in meta["model_choice"]["members"]:
        part = posteriors[posteriors["model"] == member["name"]]
        if part.empty:
            continue
        paths.append(save(marginals(part, member["priors"]),
                          out / f"marginals-{member['name']}.{fmt}"))
    return paths


def plot_recovery(folder: Path, meta: dict[str, Any], fmt: str = "png") -> list[Path]:
    """Draw a recovery study's figures from ``recovery.csv`` and ``recovery_summary.csv``."""
    folder = Path(folder)
    out = folder / "figures"
    out.mkdir(exist_ok=True)
    table = pd.read_csv(folder / "recovery.csv")
    summary = pd.read_csv(folder / "recovery_summary.csv")
    level = float(meta.get("recovery", {}).get("level", 0.9))
    return [save(recovery(table, summary, level), out / f"recovery.{fmt}"),
            save(recovery_truths(table), out / f"recovery_truths.{fmt}")]
