"""The figure of a sensitivity table: Sobol' S1 and ST, or Morris mu*, per parameter."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from normsim.analysis.sensitivity import OUTCOMES
from normsim.plotting.style import PALETTE, new_figure, styled


def sensitivity_indices(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Sobol' S1 and ST (or Morris mu*) per parameter, with confidence intervals.

    One panel per outcome (columns) and analysis group (rows, e.g. each framing);
    parameters sorted by their mean total-order index.
    """
    sobol = table["method"].iloc[0] == "sobol"
    key = "ST" if sobol else "mu_star"
    groups = list(dict.fromkeys(table["group"]))
    outcomes = [o for o in OUTCOMES if o in set(table["outcome"])]
    ranking = table.groupby("parameter")[key].mean().sort_values()
    names = list(ranking.index)
    fig = new_figure(3.9 * len(outcomes), 0.3 * len(names) * len(groups) + 1.6 * len(groups))
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
    styled(fig)
    return fig
