"""Figures of threshold cascades: cascade curves, final sizes and the cascade window.

Adoption in the threshold model is monotone (Granovetter 1978; Watts 2002), so each run's
curve rises to its final size; the window (:func:`cascade_window`) is the analogue of
Watts (2002), Fig. 1, drawn from a sweep over mean degree and threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from normsim.analysis.intervals import wilson_interval
from normsim.analysis.threshold import cascade_condition, window_table
from normsim.plotting.style import (
    PALETTE,
    TIPPING_COLOUR,
    new_figure,
    styled,
    tipping_line,
)


def _held_shares(steps: pd.DataFrame) -> pd.DataFrame:
    """Adopter share by step (rows) and run (columns), each run held at its fixed point.

    A threshold run stops early once no node changes; adoption is monotone, so its share
    after that step is its final share.
    """
    wide = steps.pivot(index="step", columns="run_id", values="adopter_share")
    return wide.sort_index().ffill()


def cascade_curves(
    steps: pd.DataFrame,
    *,
    tipping_share: float | None = None,
    band: tuple[float, float] = (0.25, 0.75),
    max_runs: int = 200,
    title: str | None = None,
) -> Figure:
    """Threshold cascades: adopter share against step for each replicate, with the median.

    Each replicate is a thin line (at most ``max_runs`` of them, the first by run id), held
    at its final share after it reaches its fixed point; over them the median across all
    runs and its ``band`` quantiles. Adoption is monotone (Granovetter 1978; Watts 2002),
    so every curve rises to its final size.

    Args:
        steps: the steps table of a threshold run (run_id, step, adopter_share).
        tipping_share: the scenario's cascade share, drawn as a line; None draws none.
        band: lower and upper quantile of the ribbon.
        max_runs: at most this many replicate curves are drawn.
        title: the figure title.
    """
    wide = _held_shares(steps)
    n_runs = wide.shape[1]
    fig = new_figure(8.0, 4.6)
    ax = fig.subplots()
    shown = wide.iloc[:, :max_runs]
    drawn = f"{shown.shape[1]:,} of {n_runs:,} runs" if n_runs > max_runs else "each run"
    for i, column in enumerate(shown.columns):
        ax.plot(
            wide.index,
            shown[column],
            color="#888888",
            lw=0.7,
            alpha=0.35,
            label=drawn if i == 0 else None,
        )
    median = wide.median(axis=1)
    lo, hi = wide.quantile(band[0], axis=1), wide.quantile(band[1], axis=1)
    low, high = int(band[0] * 100), int(band[1] * 100)
    ax.fill_between(
        wide.index,
        lo,
        hi,
        color=PALETTE[0],
        alpha=0.2,
        lw=0,
        label=f"{low}th–{high}th percentile of runs",
    )
    ax.plot(wide.index, median, color=PALETTE[0], lw=2.2, label="median of runs")
    if tipping_share is not None:
        tipping_line(ax, tipping_share)
    ax.set_ylim(0, 1)
    ax.set_xlim(wide.index[0], max(wide.index[-1], 1))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("step (a run that has stopped stays at its final share)")
    ax.set_ylabel("adopters (share of nodes)")
    ax.legend(loc="upper left", frameon=False)
    fig.suptitle(title or f"Cascade curves ({n_runs:,} runs)")
    styled(fig)
    return fig


def final_sizes(
    runs: pd.DataFrame,
    *,
    tipping_share: float | None = None,
    bins: int = 50,
    title: str | None = None,
) -> Figure:
    """Threshold cascades: the distribution of final sizes (final adopter share).

    A histogram of the runs' final adopter shares on [0, 1]: global cascades and
    failures to spread form two modes (Watts 2002). The cascade share is drawn, with
    P(cascade) and its 95% Wilson interval.

    Args:
        runs: the runs table of a threshold run (final_adopter_share, cascade_reached).
        tipping_share: the scenario's cascade share, drawn as a line; None draws none.
        bins: number of equal bins on [0, 1].
        title: the figure title.
    """
    sizes = runs["final_adopter_share"].astype(float)
    n = len(sizes)
    fig = new_figure(8.0, 4.2)
    ax = fig.subplots()
    ax.hist(sizes, bins=np.linspace(0.0, 1.0, bins + 1), color=PALETTE[0], alpha=0.85)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("final size (share of nodes that adopted by the fixed point)")
    ax.set_ylabel("runs")
    if tipping_share is not None:
        ax.axvline(tipping_share, color=TIPPING_COLOUR, lw=1.4, ls="--", zorder=3)
        cascaded = runs["cascade_reached"].astype(bool)
        k = int(cascaded.sum())
        lo, hi = wilson_interval(k, n)
        big, small = sizes[cascaded], sizes[~cascaded]
        lines = [
            f"cascade share {tipping_share:.0%}",
            f"P(cascade) {k / max(n, 1):.1%}, 95% CI [{lo:.1%}, {hi:.1%}]",
            f"({k:,} of {n:,} runs)",
        ]
        if len(big):
            lines.append(f"median final size, cascades: {big.median():.1%}")
        if len(small):
            lines.append(f"median final size, others: {small.median():.2%}")
        ax.annotate(
            "\n".join(lines),
            xy=(tipping_share, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(6 if tipping_share <= 0.6 else -6, -4),
            textcoords="offset points",
            ha="left" if tipping_share <= 0.6 else "right",
            va="top",
            fontsize=8.5,
            color=TIPPING_COLOUR,
        )
    fig.suptitle(title or f"Distribution of final sizes ({n:,} runs)")
    styled(fig)
    return fig


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges around sorted centres: midpoints, the ends half a step out."""
    if len(centres) == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mid = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[2 * centres[0] - mid[0]], mid, [2 * centres[-1] - mid[-1]]])


def cascade_window(
    runs: pd.DataFrame,
    x: str = "mean_degree",
    y: str = "threshold",
    *,
    boundary: bool = True,
    outcome: str = "cascade_reached",
    size: str = "final_adopter_share",
    cascade_share: float | None = None,
    title: str | None = None,
) -> Figure:
    """The cascade window (the analogue of Watts 2002, Fig. 1): P(global cascade) over z, phi.

    Left: the share of runs per cell that cascade globally; right: the mean final size of
    those cascades (blank where none did). Each cell averages over any other parameter.
    With ``boundary``, the zero contour of Watts's cascade condition
    (:func:`normsim.analysis.threshold.cascade_condition`) is drawn on both: valid for
    Erdős–Rényi graphs, one uniform fractional threshold and a vanishing seed.

    Args:
        runs: the runs table of a sweep over ``x`` (mean degree) and ``y`` (threshold).
        x: the parameter on the horizontal axis.
        y: the parameter on the vertical axis.
        boundary: whether to draw the analytic boundary (``x`` is z and ``y`` is phi).
        outcome: the per-run event (a global cascade).
        size: the per-run final size.
        cascade_share: the share above which a run counts as a global cascade, for labels.
        title: the figure title.
    """
    from matplotlib.lines import Line2D

    table = window_table(runs, x, y, outcome=outcome, size=size)
    xs, ys = np.sort(table[x].unique()), np.sort(table[y].unique())
    p = table.pivot(index=y, columns=x, values="p").reindex(index=ys, columns=xs)
    big = table.pivot(index=y, columns=x, values="cascade_size").reindex(index=ys, columns=xs)
    counts = table["n"]
    xe, ye = _edges(xs), _edges(ys)
    fig = new_figure(11.0, 4.8)
    left, right = fig.subplots(1, 2, sharex=True, sharey=True)
    what = (f"P(global cascade: over {cascade_share:.0%} adopt)" if cascade_share is not None
            else "P(global cascade)")
    panels = (
        (left, p.to_numpy(dtype=float), "viridis", what, "Frequency of global cascades"),
        (right, big.to_numpy(dtype=float), "cividis", "mean final size of the global cascades",
         "Size of global cascades"),
    )
    for ax, values, cmap, label, heading in panels:
        ax.set_facecolor("#E6E6E6")
        mesh = ax.pcolormesh(xe, ye, np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1,
                             shading="flat")
        bar = fig.colorbar(mesh, ax=ax, format=PercentFormatter(1.0), shrink=0.9)
        bar.set_label(label)
        ax.set_title(heading)
        ax.set_xlabel(f"mean degree z ({x})")
        ax.grid(False)
    left.set_ylabel(f"threshold \u03c6 ({y})")
    if boundary:
        zz, pp = np.meshgrid(np.linspace(xe[0], xe[-1], 400), np.linspace(ye[0], ye[-1], 400))
        condition = cascade_condition(zz, pp)
        for ax in (left, right):
            ax.contour(zz, pp, condition, levels=[0.0], colors="white", linewidths=1.6,
                       linestyles="--")
        right.legend(
            [Line2D([], [], color="white", ls="--", lw=1.6)],
            ["Watts's cascade condition (eq. 3):\nwindow inside, on Poisson graphs"],
            loc="upper right", frameon=True, facecolor="#404040", edgecolor="none",
            labelcolor="white", fontsize=8,
        )
    left.set_xlim(xe[0], xe[-1])
    left.set_ylim(ye[0], ye[-1])
    low, high = int(counts.min()), int(counts.max())
    per_cell = f"{low:,}" if low == high else f"{low:,}–{high:,}"
    fig.suptitle(
        title
        or f"The cascade window (Watts 2002, Fig. 1): {per_cell} runs per cell, "
        f"{int(counts.sum()):,} runs"
    )
    return fig
