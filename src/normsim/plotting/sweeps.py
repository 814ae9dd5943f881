"""Figures of a sweep folder: P(outcome) against a parameter, main effects, heatmaps.

They draw any model kind's runs table: the outcome is a boolean column
(``cascade_reached``, ``institutional_adoption``), the parameters are the sweep's columns.
The statistics (bins, intervals, spreads) come from :mod:`normsim.analysis.effects`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from normsim.analysis.effects import (
    bin_labels,
    main_effect_spread,
    order_labels,
    probability_table,
)
from normsim.plotting.style import PALETTE, new_figure, outcome_label, styled


def _is_numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _draw_probability(
    ax: Any, runs: pd.DataFrame, column: str, outcome: str, by: str | None, end_year: int | None
) -> None:
    table = probability_table(runs, column, outcome, by)
    numeric = (
        _is_numeric(runs[column]) and runs[column].notna().all() and (runs[column].nunique() >= 3)
    )
    series = (
        [(None, table)]
        if by is None
        else [(g, table[table[by] == g]) for g in order_labels(table[by])]
    )
    labels = order_labels(table[column])
    for i, (name, part) in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        if numeric:
            x = part[column].map(lambda v: float(str(v).split("–")[0]))
            centres = runs.groupby(bin_labels(runs[column]))[column].mean()
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
    ax.set_ylabel(outcome_label(outcome, end_year))
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
    fig = new_figure(6.4, 4.2)
    ax = fig.subplots()
    _draw_probability(ax, runs, parameter, outcome, by, end_year)
    fig.suptitle(title or f"{outcome_label(outcome, end_year)} against {parameter}")
    styled(fig)
    return fig


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
    fig = new_figure(3.6 * cols, 3.2 * rows)
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
        or f"What matters most: {outcome_label(outcome, end_year)} by "
        "value, averaged over the other parameters\n(95% Wilson intervals; dotted: "
        f"all {len(runs):,} runs, {overall:.0%})"
    )
    styled(fig)
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
    keys = [bin_labels(runs[y]).rename(y), bin_labels(runs[x]).rename(x)]
    grouped = runs[outcome].astype(float).groupby(keys)
    table = grouped.mean().unstack(x)
    counts = grouped.size().unstack(x)
    table = table.reindex(index=order_labels(keys[0]), columns=order_labels(keys[1]))
    counts = counts.reindex(index=table.index, columns=table.columns)
    fig = new_figure(1.1 * len(table.columns) + 3.2, 0.55 * len(table.index) + 2.4)
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
    bar.set_label(outcome_label(outcome, end_year))
    n = int(counts.min().min()) if counts.size else 0
    fig.suptitle(
        title
        or f"{outcome_label(outcome, end_year)} by {y} and {x}\n"
        f"(averaged over the other parameters; at least {n:,} runs per cell)"
    )
    return fig
