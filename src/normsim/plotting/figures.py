"""Figures of result tables: what ``normsim plot`` draws and the notebooks show.

Every function takes the tidy tables (``runs``, ``steps``, a sensitivity table) as
DataFrames and returns a :class:`matplotlib.figure.Figure` built without pyplot, so
nothing global changes and figures can be made in worker processes, tests and notebooks
alike. Probabilities carry 95% Wilson intervals; the one-third tipping point (Finnemore &
Sikkink 1998; seed 002:281–283) is drawn and labelled wherever adoption is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from normsim.analysis.effects import bin_labels, order_labels
from normsim.analysis.intervals import wilson_interval
from normsim.models.region.tables import REGIONAL_NAMES
from normsim.outdir import atomic_file

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
"""Okabe–Ito colours: distinguishable with colour-vision deficiencies."""
STAGE_COLOURS = {"emergence": "#BBBBBB", "cascade": "#E69F00", "internalization": "#009E73"}
TIPPING_COLOUR = "#B2182B"
RC = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
}
FORMATS = ("png", "svg")
NONE_LABEL = "none"


def _figure(width: float, height: float) -> Figure:
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width, height), layout="constrained")
    return fig


def _styled(fig: Figure) -> None:
    """Apply the house style to every axes of a figure (rc_context is not sticky)."""
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(True, alpha=0.3)
        ax.set_axisbelow(True)


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def binned(values: pd.Series, bins: int = 5) -> pd.Series:
    """A continuous parameter cut into quantile bins (labels ``low–high``); others as labels."""
    return bin_labels(values, bins)


def _order(labels: Iterable[Any]) -> list[Any]:
    """Order labels: 'none' first, numbers ascending, text in design order."""
    return order_labels(labels)


def _tipping_line(ax: Any, share: float) -> None:
    ax.axhline(share, color=TIPPING_COLOUR, lw=1.4, ls="--", zorder=3)
    ax.annotate(
        f"tipping point ({share:.0%}: one-third of the states)"
        if abs(share - 1 / 3) < 1e-9
        else f"tipping point ({share:.0%})",
        xy=(1.0, share),
        xycoords=("axes fraction", "data"),
        xytext=(-4, 4),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=8.5,
        color=TIPPING_COLOUR,
    )


# --------------------------------------------------------------------------- trajectories


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
    fig = _figure(8.0, 6.4)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    groups = binned(steps[by]) if by else pd.Series("all runs", index=steps.index)
    order = _order(groups)[:max_groups]
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
    _tipping_line(top, tipping_share)
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
    _styled(fig)
    return fig


# --------------------------------------------------------------------------- P(cascade)


def _probability_table(
    runs: pd.DataFrame, column: str, outcome: str, by: str | None = None
) -> pd.DataFrame:
    keys = [binned(runs[column]).rename(column)]
    if by:
        keys.append(binned(runs[by]).rename(by))
    grouped = runs[outcome].astype(bool).groupby(keys, sort=False)
    table = pd.DataFrame({"k": grouped.sum(), "n": grouped.size()}).reset_index()
    table["p"] = table.k / table.n
    bounds = [wilson_interval(int(k), int(n)) for k, n in zip(table.k, table.n, strict=True)]
    table["lo"], table["hi"] = zip(*bounds, strict=True) if bounds else ([], [])
    return table


def _outcome_label(outcome: str, end_year: int | None) -> str:
    what = {
        "cascade_reached": "P(cascade",
        "institutional_adoption": "P(institutional adoption",
    }.get(outcome, f"P({outcome}")
    return f"{what} by {end_year})" if end_year else f"{what})"


def _draw_probability(
    ax: Any, runs: pd.DataFrame, column: str, outcome: str, by: str | None, end_year: int | None
) -> None:
    table = _probability_table(runs, column, outcome, by)
    numeric = (
        _is_numeric(runs[column]) and runs[column].notna().all() and (runs[column].nunique() >= 3)
    )
    series = (
        [(None, table)] if by is None else [(g, table[table[by] == g]) for g in _order(table[by])]
    )
    labels = _order(table[column])
    for i, (name, part) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        if numeric:
            x = part[column].map(lambda v: float(str(v).split("–")[0]))
            centres = runs.groupby(binned(runs[column]))[column].mean()
            x = part[column].map(centres).astype(float) if runs[column].nunique() > 5 else x
            part = part.assign(x=x).sort_values("x")
            ax.fill_between(part.x, part.lo, part.hi, color=colour, alpha=0.2, lw=0)
            ax.plot(
                part.x,
                part.p,
                color=colour,
                lw=2,
                marker="o",
                ms=4,
                label=f"{by} = {name}" if by else None,
            )
        else:
            offset = (i - (len(series) - 1) / 2) * 0.12
            x = part[column].map({v: j for j, v in enumerate(labels)}) + offset
            ax.errorbar(
                x,
                part.p,
                yerr=[part.p - part.lo, part.hi - part.p],
                fmt="o",
                color=colour,
                ms=6,
                capsize=3,
                lw=1.5,
                label=f"{by} = {name}" if by else None,
            )
    if not numeric:
        ax.set_xticks(
            range(len(labels)),
            labels,
            rotation=30 if len(labels) > 4 else 0,
            ha="right" if len(labels) > 4 else "center",
        )
        ax.set_xlim(-0.5, len(labels) - 0.5)
    ax.set_ylim(-0.02, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    binned_axis = numeric and runs[column].nunique() > 5
    ax.set_xlabel(f"{column} (binned)" if binned_axis else column)
    ax.set_ylabel(_outcome_label(outcome, end_year))
    if by:
        ax.legend(frameon=False)


def cascade_probability(
    runs: pd.DataFrame,
    parameter: str,
    *,
    by: str | None = None,
    outcome: str = "cascade_reached",
    end_year: int | None = None,
    title: str | None = None,
) -> Figure:
    """P(cascade) against one parameter, with 95% Wilson intervals (ribbons or bars).

    A numeric parameter gets a line with a ribbon (continuous ones in quantile bins); a
    categorical one gets points with interval bars. Every run counts, so other parameters
    are averaged over as the sweep's design weights them.
    """
    fig = _figure(6.4, 4.2)
    ax = fig.subplots()
    _draw_probability(ax, runs, parameter, outcome, by, end_year)
    fig.suptitle(title or f"{_outcome_label(outcome, end_year)} against {parameter}")
    _styled(fig)
    return fig


def main_effect_spread(
    runs: pd.DataFrame, parameters: Iterable[str], outcome: str = "cascade_reached"
) -> pd.Series:
    """Largest minus smallest marginal P(outcome) over each parameter's values (or bins)."""
    spread = {}
    for name in parameters:
        p = runs[outcome].astype(float).groupby(binned(runs[name])).mean()
        spread[name] = float(p.max() - p.min())
    return pd.Series(spread, dtype=float).sort_values(ascending=False)


def lever_effects(
    runs: pd.DataFrame,
    parameters: Sequence[str],
    *,
    outcome: str = "cascade_reached",
    end_year: int | None = None,
    roles: dict[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Main effects: P(outcome) against each parameter, largest spread first.

    Each panel averages over every other parameter of the sweep; the spread in its title
    (largest minus smallest marginal probability) ranks what matters most.
    """
    spread = main_effect_spread(runs, parameters, outcome)
    names = list(spread.index)
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig = _figure(3.6 * cols, 3.2 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, sharey=True, squeeze=False)).ravel()
    overall = float(runs[outcome].astype(float).mean())
    for ax, name in zip(axes, names, strict=False):
        ax.axhline(overall, color="#777777", lw=1, ls=":", label="all runs")
        _draw_probability(ax, runs, name, outcome, None, end_year)
        role = f" ({roles[name]})" if roles and name in roles else ""
        ax.set_title(f"{name}{role}\nspread {spread[name]:.0%}", fontsize=10)
        if ax not in axes[::cols]:
            ax.set_ylabel("")
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(
        title
        or f"What matters most: {_outcome_label(outcome, end_year)} by "
        "value, averaged over the other parameters\n(95% Wilson intervals; dotted: "
        f"all {len(runs):,} runs, {overall:.0%})"
    )
    _styled(fig)
    return fig


def cascade_heatmap(
    runs: pd.DataFrame,
    x: str,
    y: str,
    *,
    outcome: str = "cascade_reached",
    end_year: int | None = None,
    title: str | None = None,
) -> Figure:
    """P(outcome) over two parameters (averaged over the others), cell by cell."""
    keys = [binned(runs[y]).rename(y), binned(runs[x]).rename(x)]
    grouped = runs[outcome].astype(float).groupby(keys)
    table = grouped.mean().unstack(x)
    counts = grouped.size().unstack(x)
    table = table.reindex(index=_order(keys[0]), columns=_order(keys[1]))
    counts = counts.reindex(index=table.index, columns=table.columns)
    fig = _figure(1.1 * len(table.columns) + 3.2, 0.55 * len(table.index) + 2.4)
    ax = fig.subplots()
    image = ax.imshow(
        table.to_numpy(dtype=float), cmap="viridis", vmin=0, vmax=1, aspect="auto", origin="lower"
    )
    for (i, j), value in np.ndenumerate(table.to_numpy(dtype=float)):
        if np.isfinite(value):
            ax.text(
                j,
                i,
                f"{value:.0%}",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if value < 0.6 else "black",
            )
    ax.set_xticks(range(len(table.columns)), table.columns)
    ax.set_yticks(range(len(table.index)), table.index)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.grid(False)
    bar = fig.colorbar(image, ax=ax, format=PercentFormatter(1.0))
    bar.set_label(_outcome_label(outcome, end_year))
    n = int(counts.min().min()) if counts.size else 0
    fig.suptitle(
        title
        or f"{_outcome_label(outcome, end_year)} by {y} and {x}\n"
        f"(averaged over the other parameters; at least {n:,} runs per cell)"
    )
    return fig


# --------------------------------------------------------------------------- timing, order


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
    fig = _figure(10.0, 4.0)
    left, right = fig.subplots(1, 2)
    groups = binned(runs[by]) if by else pd.Series("all runs", index=runs.index)
    order = _order(groups)[:max_groups]
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
    _styled(fig)
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
    fig = _figure(9.0, 0.42 * n_states + 2.2)
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


# --------------------------------------------------------------------------- threshold


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
    fig = _figure(8.0, 4.6)
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
        _tipping_line(ax, tipping_share)
    ax.set_ylim(0, 1)
    ax.set_xlim(wide.index[0], max(wide.index[-1], 1))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("step (a run that has stopped stays at its final share)")
    ax.set_ylabel("adopters (share of nodes)")
    ax.legend(loc="upper left", frameon=False)
    fig.suptitle(title or f"Cascade curves ({n_runs:,} runs)")
    _styled(fig)
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
    fig = _figure(8.0, 4.2)
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
    _styled(fig)
    return fig


# --------------------------------------------------------------------------- sensitivity


def sensitivity_indices(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Sobol' S1 and ST (or Morris mu*) per parameter, with confidence intervals.

    One panel per outcome (columns) and analysis group (rows, e.g. each framing);
    parameters sorted by their mean total-order index.
    """
    from normsim.analysis.sensitivity import OUTCOMES

    sobol = table["method"].iloc[0] == "sobol"
    key = "ST" if sobol else "mu_star"
    groups = list(dict.fromkeys(table["group"]))
    outcomes = [o for o in OUTCOMES if o in set(table["outcome"])]
    ranking = table.groupby("parameter")[key].mean().sort_values()
    names = list(ranking.index)
    fig = _figure(3.9 * len(outcomes), 0.3 * len(names) * len(groups) + 1.6 * len(groups))
    axes = np.atleast_2d(fig.subplots(len(groups), len(outcomes), sharey=True, squeeze=False))
    y = np.arange(len(names))
    for r, group in enumerate(groups):
        for c, outcome in enumerate(outcomes):
            ax = axes[r, c]
            part = (
                table[(table.group == group) & (table.outcome == outcome)]
                .set_index("parameter")
                .reindex(names)
            )
            if sobol:
                ax.barh(
                    y + 0.2,
                    part.ST,
                    height=0.38,
                    xerr=part.ST_conf,
                    color=PALETTE[5],
                    error_kw={"lw": 1, "capsize": 2},
                    label="total order ST",
                )
                ax.barh(
                    y - 0.2,
                    part.S1,
                    height=0.38,
                    xerr=part.S1_conf,
                    color=PALETTE[0],
                    error_kw={"lw": 1, "capsize": 2},
                    label="first order S1",
                )
                ax.axvline(0, color="black", lw=0.8)
                ax.set_xlim(-0.3, 1.1)  # indices live in [0, 1]; wider intervals are clipped
                ax.set_xlabel("Sobol' index (share of variance)")
            else:
                ax.barh(
                    y,
                    part.mu_star,
                    xerr=part.mu_star_conf,
                    color=PALETTE[0],
                    error_kw={"lw": 1, "capsize": 2},
                    label="mu*",
                )
                ax.set_xlabel("Morris mu* (mean |elementary effect|)")
            ax.set_yticks(y, names)
            ax.set_title(
                f"{OUTCOMES[outcome]}" + (f"\n{group}" if len(groups) > 1 else ""), fontsize=10
            )
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles[::-1], labels[::-1], loc="outside lower center", ncols=2, frameon=False)
    reps = int(table["replicates"].iloc[0])
    points = int(table["points"].iloc[0])
    fig.suptitle(
        title
        or (
            "Which assumptions drive the answer? Sobol' indices, 95% CI"
            if sobol
            else "Which assumptions drive the answer? Morris screening"
        )
        + f"\n({points:,} design points x {reps} replicates per analysis)"
    )
    _styled(fig)
    return fig


# --------------------------------------------------------------------------- folders


def save(fig: Figure, path: Path) -> Path:
    """Save a figure (format from the suffix), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip("."))
    return path


def _plot_threshold(directory: Path, meta: dict[str, Any], fmt: str) -> list[Path]:
    """The figures of a threshold run folder: cascade curves and final sizes."""
    share = meta["scenario_resolved"]["tipping_share"]
    name = meta["scenario_name"]
    figures = directory / "figures"
    steps = pd.read_parquet(
        directory / "steps.parquet", columns=["run_id", "step", "adopter_share"]
    )
    curves = cascade_curves(steps, tipping_share=share, title=f"{name}: cascade curves")
    del steps
    runs = pd.read_parquet(
        directory / "runs.parquet", columns=["run_id", "cascade_reached", "final_adopter_share"]
    )
    sizes = final_sizes(
        runs, tipping_share=share, title=f"{name}: distribution of final sizes ({len(runs):,} runs)"
    )
    return [
        save(curves, figures / f"cascade_curves.{fmt}"),
        save(sizes, figures / f"final_sizes.{fmt}"),
    ]


def plot_directory(directory: Path, fmt: str = "png") -> list[Path]:
    """Draw every figure that a result folder supports into ``directory/figures``.

    A ``normsim run`` folder gets trajectories, tipping years and adoption order; a sweep
    folder adds the main effects of its parameters, a heatmap of the two that matter most,
    trajectories and tipping years split by the lever that matters most, and, after
    ``normsim sensitivity``, the sensitivity indices. A threshold run folder gets its
    cascade curves and the distribution of final sizes.
    """
    from normsim.analysis.sensitivity import read_table

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
    directory = Path(directory)
    meta = json.loads((directory / "metadata.json").read_text())
    data = meta["scenario_resolved"]
    if data.get("kind") == "threshold":
        return _plot_threshold(directory, meta, fmt)
    start = data["start_year"]
    end = meta.get("end_year", start + meta["steps"])
    share = data["region"]["tipping_share"]
    codes = list(data["states"])
    figures = directory / "figures"
    written: list[Path] = []
    sweep = meta.get("sweep")
    parameters = (
        [p["name"] for b in ("levers", "uncertainties") for p in sweep[b]["parameters"]]
        if sweep
        else []
    )
    roles = (
        {p["name"]: p["role"] for b in ("levers", "uncertainties") for p in sweep[b]["parameters"]}
        if sweep
        else {}
    )
    runs = pd.read_parquet(
        directory / "runs.parquet",
        columns=[
            "run_id",
            "cascade_reached",
            "tipping_year",
            "institutional_adoption",
            "adoption_order",
            *parameters,
        ],
    )
    levers = [p for p in parameters if roles[p] == "lever"]
    ranking = main_effect_spread(runs, parameters) if parameters else pd.Series(dtype=float)
    lever_rank = [p for p in ranking.index if p in levers] or list(ranking.index)
    top = lever_rank[0] if lever_rank else None

    steps = pd.read_parquet(
        directory / "steps.parquet",
        columns=["run_id", "year", "adopter_share", "regional_stage", *([top] if top else [])],
    )
    name = meta.get("sweep_name") or meta["scenario_name"]
    written.append(
        save(
            trajectories(
                steps,
                by=top,
                tipping_share=share,
                title=f"{name}: adoption and the regional life cycle",
            ),
            figures / f"trajectories.{fmt}",
        )
    )
    del steps
    written.append(
        save(
            tipping_years(
                runs,
                by=top,
                start_year=start,
                end_year=end,
                title=f"{name}: when does the region tip?",
            ),
            figures / f"tipping_years.{fmt}",
        )
    )
    written.append(
        save(
            adoption_order(
                runs, codes, title=f"{name}: per-state adoption order ({len(runs):,} runs)"
            ),
            figures / f"adoption_order.{fmt}",
        )
    )
    if parameters:
        for outcome, stem in (
            ("cascade_reached", "main_effects"),
            ("institutional_adoption", "main_effects_institutional"),
        ):
            written.append(
                save(
                    lever_effects(runs, parameters, outcome=outcome, end_year=end, roles=roles),
                    figures / f"{stem}.{fmt}",
                )
            )
        if top:
            written.append(
                save(
                    cascade_probability(runs, top, end_year=end),
                    figures / f"cascade_vs_{top}.{fmt}",
                )
            )
        if len(ranking) >= 2:
            x, y = list(ranking.index[:2])
            written.append(
                save(cascade_heatmap(runs, x, y, end_year=end), figures / f"heatmap_{y}_{x}.{fmt}")
            )
    table = read_table(directory)
    if table is not None:
        written.append(save(sensitivity_indices(table), figures / f"sensitivity.{fmt}"))
    return written
