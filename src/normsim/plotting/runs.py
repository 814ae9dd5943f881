"""Figures of a region run or sweep folder over time: adoption, tipping years, adoption order.

Each function takes the tidy tables as DataFrames and returns a
:class:`matplotlib.figure.Figure`. Probabilities carry 95% Wilson intervals; the one-third
tipping point (Finnemore & Sikkink 1998; seed 002:281–283) is drawn and labelled wherever
adoption is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from normsim.analysis.effects import bin_labels, order_labels
from normsim.analysis.intervals import wilson_interval
from normsim.models.region.tables import REGIONAL_NAMES
from normsim.plotting.style import PALETTE, STAGE_COLOURS, new_figure, styled, tipping_line


def trajectories(
    steps: pd.DataFrame,
    *,
    by: str | None = None,
    tipping_share: float = 1 / 3,
    band: tuple[float, float] = (0.25, 0.75),
    title: str | None = None,
    max_groups: int = 6,
) -> Figure:
    """Adopter share over the years, with the tipping point and the regional stages.

    Top: mean adopter share with its ``band`` quantiles across runs, per value of ``by``,
    over shaded stage bands (emergence below the tipping share, cascade above). Bottom: the
    share of runs whose region is in each life-cycle stage (one group), or past the
    tipping point (several groups).

    Args:
        steps: the steps table (year, adopter_share, regional_stage, and ``by``).
        by: a column to split by (e.g. a lever), or None.
        tipping_share: the scenario's tipping share.
        band: lower and upper quantile of the ribbon.
        title: the figure title.
        max_groups: at most this many groups are drawn (the first in sort order).
    """
    fig = new_figure(8.0, 6.4)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    groups = bin_labels(steps[by]) if by else pd.Series("all runs", index=steps.index)
    order = order_labels(groups)[:max_groups]
    years = np.sort(steps["year"].unique())
    top.axhspan(0, tipping_share, color=STAGE_COLOURS["emergence"], alpha=0.15, lw=0)
    top.axhspan(tipping_share, 1.0, color=STAGE_COLOURS["cascade"], alpha=0.10, lw=0)
    top.text(
        0.01,
        0.02,
        "norm emergence (below the tipping point)",
        transform=top.get_yaxis_transform(),
        va="bottom",
        fontsize=8.5,
        color="#555555",
    )
    top.text(
        0.01,
        0.98,
        "norm cascade (at or above it)",
        transform=top.get_yaxis_transform(),
        va="top",
        fontsize=8.5,
        color="#8A5A00",
    )
    stage = steps["regional_stage"].astype(str)
    past = stage.isin(REGIONAL_NAMES[1:])
    for i, label in enumerate(order):
        colour = PALETTE[i % len(PALETTE)]
        mask = groups == label
        share = steps.loc[mask, ["year", "adopter_share"]].groupby("year")["adopter_share"]
        mean, lo, hi = share.mean(), share.quantile(band[0]), share.quantile(band[1])
        name = str(label)
        top.fill_between(mean.index, lo, hi, color=colour, alpha=0.12, lw=0)
        top.plot(mean.index, mean, color=colour, lw=2, label=name)
        if by is None:
            shares = pd.crosstab(steps["year"], stage, normalize="index")
            shares = shares.reindex(columns=REGIONAL_NAMES, fill_value=0.0)
            bottom.stackplot(
                shares.index,
                *(shares[c] for c in REGIONAL_NAMES),
                colors=[STAGE_COLOURS[c] for c in REGIONAL_NAMES],
                labels=REGIONAL_NAMES,
                alpha=0.9,
            )
            bottom.legend(loc="upper left", frameon=False, ncols=3, title="regional stage")
        else:
            p = past[mask].groupby(steps.loc[mask, "year"]).mean()
            bottom.plot(p.index, p, color=colour, lw=2)
    tipping_line(top, tipping_share)
    top.set_ylim(0, 1)
    top.yaxis.set_major_formatter(PercentFormatter(1.0))
    top.set_ylabel("states that hold the norm")
    low, high = int(band[0] * 100), int(band[1] * 100)
    handles, labels = top.get_legend_handles_labels()
    legend_title = f"mean; shaded: {low}th–{high}th percentile of runs"
    if by is None:
        top.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(0.0, 0.92),
            frameon=False,
            title=legend_title,
        )
    else:
        bottom.legend(
            handles,
            labels,
            loc="upper left",
            frameon=False,
            title=f"{by} ({legend_title})",
            ncols=2 if len(labels) > 3 else 1,
        )
    bottom.set_ylim(0, 1)
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0))
    bottom.set_ylabel("share of runs" if by is None else "runs past the\ntipping point")
    bottom.set_xlabel("year")
    bottom.set_xlim(years[0], years[-1])
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    n_runs = steps["run_id"].nunique() if "run_id" in steps else None
    fig.suptitle(
        (title or "Adoption of the norm and the regional life cycle")
        + (f" ({n_runs:,} runs)" if n_runs else "")
    )
    styled(fig)
    return fig


def tipping_years(
    runs: pd.DataFrame,
    *,
    by: str | None = None,
    start_year: int | None = None,
    end_year: int | None = None,
    title: str | None = None,
    max_groups: int = 6,
) -> Figure:
    """When the region tips: the tipping-year distribution and P(cascade by year).

    Left: the share of all runs that tip in each year (runs that never tip count in the
    denominator, so the bars add up to P(cascade)). Right: P(cascade by year) with 95%
    Wilson intervals.
    """
    fig = new_figure(10.0, 4.0)
    left, right = fig.subplots(1, 2)
    groups = bin_labels(runs[by]) if by else pd.Series("all runs", index=runs.index)
    order = order_labels(groups)[:max_groups]
    years = runs["tipping_year"].dropna().astype(int)
    first = start_year if start_year is not None else (int(years.min()) if len(years) else 0)
    last = end_year if end_year is not None else (int(years.max()) if len(years) else 1)
    span = np.arange(first, last + 1)
    width = 0.8 / len(order)
    for i, label in enumerate(order):
        colour = PALETTE[i % len(PALETTE)]
        part = runs.loc[groups == label, "tipping_year"]
        n = len(part)
        counts = part.dropna().astype(int).value_counts().reindex(span, fill_value=0)
        name = f"{by} = {label}" if by else label
        left.bar(
            span + (i - (len(order) - 1) / 2) * width,
            counts / n,
            width=width,
            color=colour,
            label=name,
            alpha=0.85,
        )
        cumulative = counts.cumsum()
        bounds = np.array([wilson_interval(int(k), n) for k in cumulative])
        right.fill_between(
            span, bounds[:, 0], bounds[:, 1], color=colour, alpha=0.2, lw=0, step="post"
        )
        right.step(span, cumulative / n, where="post", color=colour, lw=2, label=name)
    left.set_xlabel("tipping year")
    left.set_ylabel("share of runs tipping that year")
    left.yaxis.set_major_formatter(PercentFormatter(1.0))
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_title("Distribution of the tipping year")
    right.set_xlabel("year")
    right.set_ylabel("P(region has tipped by year)")
    right.yaxis.set_major_formatter(PercentFormatter(1.0))
    right.set_ylim(0, 1)
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_title("Cumulative P(cascade), 95% CI")
    left.legend(frameon=False, fontsize=8)
    fig.suptitle(title or f"When does the region reach the tipping point? ({len(runs):,} runs)")
    styled(fig)
    return fig


def adoption_order(
    runs: pd.DataFrame, codes: Sequence[str] | None = None, *, title: str | None = None
) -> Figure:
    """Who adopts, and in what order: P(state is the k-th adopter), and P(adopts at all).

    States that hold the norm from the start (the entrepreneur) rank by their order in
    the scenario among themselves.
    """
    orders = runs["adoption_order"]
    if codes is None:
        codes = sorted({c for order in orders for c in order})
    n_states, n = len(codes), len(runs)
    index = {c: i for i, c in enumerate(codes)}
    matrix = np.zeros((n_states, n_states))
    for order in orders:
        for rank, code in enumerate(order):
            matrix[index[code], rank] += 1
    matrix /= max(n, 1)
    ever = matrix.sum(axis=1)
    mean_rank = np.array(
        [
            (matrix[i] * np.arange(1, n_states + 1)).sum() / ever[i] if ever[i] else np.inf
            for i in range(n_states)
        ]
    )
    rows = np.lexsort((mean_rank, -ever))
    fig = new_figure(9.0, 0.42 * n_states + 2.2)
    heat, bars = fig.subplots(1, 2, width_ratios=(3, 1), sharey=True)
    heat.imshow(matrix[rows], cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(matrix[rows]):
        if value >= 0.005:
            heat.text(
                j,
                i,
                f"{value:.0%}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if value > 0.55 else "black",
            )
    heat.set_xticks(range(n_states), [str(k + 1) for k in range(n_states)])
    heat.set_yticks(range(n_states), [codes[i] for i in rows])
    heat.set_xlabel("adoption rank (1 = first state to hold the norm)")
    heat.set_title("P(state is the k-th adopter)")
    heat.grid(False)
    bars.barh(range(n_states), ever[rows], color=PALETTE[0])
    for i, value in enumerate(ever[rows]):
        inside = value > 0.3
        bars.text(
            value - 0.03 if inside else value + 0.03,
            i,
            f"{value:.0%}",
            va="center",
            ha="right" if inside else "left",
            fontsize=8,
            color="white" if inside else "black",
        )
    bars.set_xlim(0, 1)
    bars.xaxis.set_major_formatter(PercentFormatter(1.0))
    bars.set_title("P(adopts by the horizon)")
    bars.spines[["top", "right"]].set_visible(False)
    bars.grid(True, axis="x", alpha=0.3)
    fig.suptitle(title or f"Per-state adoption order ({n:,} runs)")
    return fig
