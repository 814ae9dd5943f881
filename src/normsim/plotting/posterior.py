"""The headline figures under a calibration's posterior, from their tables.

- :func:`fan_chart`: the posterior-predictive fan chart of adoption, the adopter share per
  year as quantile bands over the posterior runs (:func:`normsim.analysis.posterior.fan_table`),
  with the tipping line (one-third of the members);
- :func:`lever_chart`: P(outcome) by lever, one lever moved at a time from the baseline
  (:func:`normsim.analysis.posterior.lever_table`): the posterior-predictive P with its 95%
  Wilson interval, the interval of P over the draws, the baseline marked in every panel;
- :func:`plot_headline`: both, from the tables ``normsim figures`` writes (``fan.csv``,
  ``levers.csv``, ``figures.json``).

Nothing here imports the runner.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from normsim.plotting.style import PALETTE, new_figure, outcome_label, save, styled, tipping_line

FAN_COLOUR = PALETTE[0]
BASELINE_COLOUR = "#000000"
FILES = {"fan": "posterior_fan.png", "levers": "posterior_levers.png"}
"""The headline figures' file names (the README shows them from docs/figures/)."""


def fan_chart(fan: pd.DataFrame, *, tipping_share: float, title: str | None = None,
              note: str | None = None) -> Figure:
    """The adopter share per year over the posterior runs: 90% and 50% bands, median, mean.

    Args:
        fan: :func:`~normsim.analysis.posterior.fan_table`'s table (``year``, ``mean``,
            ``q05`` ... ``q95``).
        tipping_share: the tipping share, drawn as the dashed line.
        title: the figure's title.
        note: a line under the title (the runs, the draws, P(cascade)).
    """
    fig = new_figure(7.2, 4.2)
    ax = fig.subplots()
    years = fan["year"].to_numpy()
    ax.fill_between(years, fan["q05"], fan["q95"], color=FAN_COLOUR, alpha=0.18, lw=0,
                    label="90% of runs")
    ax.fill_between(years, fan["q25"], fan["q75"], color=FAN_COLOUR, alpha=0.38, lw=0,
                    label="50% of runs")
    ax.plot(years, fan["q50"], color=FAN_COLOUR, lw=2, label="median")
    ax.plot(years, fan["mean"], color="#333333", lw=1.2, ls="-", marker="o", ms=2.5,
            label="mean")
    tipping_line(ax, tipping_share)
    ax.set_xlim(years[0], years[-1])
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("year")
    ax.set_ylabel("adopter share (members holding the norm)")
    ax.legend(loc="upper left", frameon=False)
    fig.suptitle(title or "Posterior-predictive adoption", x=0.01, ha="left")
    if note:
        ax.set_title(textwrap.fill(note, 100), fontsize=8.5, loc="left", color="#444444")
    styled(fig)
    return fig


def lever_chart(table: pd.DataFrame, *, outcome: str = "cascade_reached",
                end_year: int | None = None, title: str | None = None,
                note: str | None = None) -> Figure:
    """P(outcome) by lever, one lever moved at a time from the baseline, under the posterior.

    Args:
        table: :func:`~normsim.analysis.posterior.lever_table`'s table; rows of lever
            ``baseline`` give the dashed line and its band, and each lever's baseline
            value is drawn in black.
        outcome: the outcome the table counts (for the axis label).
        end_year: the horizon (for the axis label).
        title: the figure's title.
        note: a line under the title.
    """
    levers = [name for name in dict.fromkeys(table["lever"]) if name != "baseline"]
    base = table[table["lever"] == "baseline"]
    widths = [max(2, (table["lever"] == name).sum()) for name in levers]
    fig = new_figure(0.7 * sum(widths) + 1.4, 4.6)
    axes = np.atleast_1d(fig.subplots(1, len(levers), sharey=True,
                                      gridspec_kw={"width_ratios": widths}))
    for ax, name in zip(axes, levers, strict=True):
        part = table[table["lever"] == name].reset_index(drop=True)
        x = np.arange(len(part))
        if len(base):
            row = base.iloc[0]
            ax.axhspan(row["ci_low"], row["ci_high"], color=BASELINE_COLOUR, alpha=0.08, lw=0)
            ax.axhline(row["p"], color=BASELINE_COLOUR, lw=1, ls="--")
        for i, r in part.iterrows():
            colour = BASELINE_COLOUR if r["baseline"] else PALETTE[0]
            ax.vlines(i, r["draw_low"], r["draw_high"], color=colour, lw=4, alpha=0.15)
            ax.errorbar(i, r["p"], yerr=[[r["p"] - r["ci_low"]], [r["ci_high"] - r["p"]]],
                        fmt="D" if r["baseline"] else "o", color=colour, ms=6, capsize=3,
                        lw=2, mfc="white" if r["baseline"] else colour, mew=1.6)
        labels = [f"{v}\n(today)" if b else str(v)
                  for v, b in zip(part["value"], part["baseline"], strict=True)]
        ax.set_xticks(x, labels, rotation=35 if len(part) > 3 else 0,
                      ha="right" if len(part) > 3 else "center", fontsize=8.5)
        ax.set_xlim(-0.6, len(part) - 0.4)
        ax.set_title(name.replace("_", " "), fontsize=9.5)
    axes[0].set_ylim(-0.02, 1.02)
    axes[0].yaxis.set_major_formatter(PercentFormatter(1.0))
    axes[0].set_ylabel(outcome_label(outcome, end_year))
    handles = [
        axes[0].errorbar([], [], yerr=[], fmt="o", color=PALETTE[0], lw=2,
                         label="one lever moved: P and its 95% Wilson interval"),
        axes[0].errorbar([], [], yerr=[], fmt="D", color=BASELINE_COLOUR, mfc="white", lw=2,
                         label="today's setting (dashed: its P, band: its 95% interval)"),
        axes[0].vlines([], [], [], color=PALETTE[0], alpha=0.15, lw=4,
                       label="90% interval of P over the posterior draws"),
    ]
    legend = fig.legend(handles=handles, loc="outside lower center", ncol=3, frameon=False,
                        fontsize=8, title=textwrap.fill(note, 160) if note else None,
                        title_fontsize=8)
    if note:
        legend.get_title().set_color("#444444")
    fig.suptitle(title or f"{outcome_label(outcome, end_year)} by lever, under the posterior",
                 x=0.01, ha="left")
    styled(fig)
    return fig


def plot_headline(folder: Path, out: Path | None = None) -> list[Path]:
    """Draw both headline figures from the tables of a ``normsim figures`` folder.

    Args:
        folder: holds ``fan.csv``, ``levers.csv`` and ``figures.json``.
        out: where to write the images (default ``folder``).

    Returns:
        The images written (:data:`FILES`).
    """
    folder = Path(folder)
    out = Path(out) if out is not None else folder
    meta: dict[str, Any] = json.loads((folder / "figures.json").read_text(encoding="utf-8"))
    fan = pd.read_csv(folder / "fan.csv")
    levers = pd.read_csv(folder / "levers.csv")
    post = meta["posterior"]
    head = meta["fan"]
    runs_line = (f"{head['runs']:,} runs over {post['draws']} posterior draws of "
                 f"{post['calibration']}")
    fan_note = (f"{head['scenario']}: {runs_line} · P(cascade by {head['end_year']}) "
                f"{head['p']:.1%} [95% CI {head['ci'][0]:.1%}, {head['ci'][1]:.1%}]; "
                f"{head['level']:.0%} interval over the draws {head['draw_interval'][0]:.0%}"
                f" to {head['draw_interval'][1]:.0%}")
    lev = meta["levers"]
    lever_note = (f"{lev['sweep']}: base {lev['scenario']} to {lev['end_year']}, one lever "
                  f"moved at a time, averaged over {', '.join(lev['uncertainties'])}; "
                  f"{lev['runs_per_setting']:,} runs per setting over {post['draws']} draws")
    return [
        save(fan_chart(fan, tipping_share=head["tipping_share"],
                       title="Adoption under the posterior: adopter share per year",
                       note=fan_note), out / FILES["fan"]),
        save(lever_chart(levers, end_year=lev["end_year"],
                         title=f"What would it take? P(cascade by {lev['end_year']}) by lever, "
                         "under the posterior", note=lever_note), out / FILES["levers"]),
    ]
