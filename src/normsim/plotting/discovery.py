"""Figures of a scenario discovery (``normsim discover``), from the files it wrote.

:func:`tradeoff` draws PRIM's peeling trajectory, coverage against density, with the chosen
box marked; :func:`box_limits` each restricted parameter's range (or values) inside its full
range. :func:`plot_discovery` reads ``trajectory.csv`` and ``discovery.json`` from a
discovery folder and saves both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from normsim.analysis.discovery import TRAJECTORY_FILE, read_discovery
from normsim.plotting.style import FORMATS, PALETTE, new_figure, save, styled

__all__ = ["box_limits", "plot_discovery", "tradeoff"]

GREY = "#BBBBBB"


def tradeoff(trajectory: pd.DataFrame, title: str = "") -> Figure:
    """Coverage against density along the peeling trajectory, the chosen box ringed.

    Args:
        trajectory: ``trajectory.csv``: one row per box (box, coverage, density, mass,
            res_dim, chosen).
        title: the figure title.
    """
    fig = new_figure(6.4, 4.4)
    ax = fig.add_subplot()
    ax.plot(trajectory.coverage, trajectory.density, color=GREY, lw=1, zorder=1)
    points = ax.scatter(trajectory.coverage, trajectory.density, c=trajectory.res_dim,
                        cmap="viridis", s=22, zorder=2)
    bar = fig.colorbar(points, ax=ax, label="restricted parameters")
    bar.set_ticks(sorted(set(trajectory.res_dim.astype(int))))
    chosen = trajectory[trajectory.chosen.astype(bool)]
    for _, row in chosen.iterrows():
        ax.scatter([row.coverage], [row.density], s=160, facecolors="none",
                   edgecolors=PALETTE[3], linewidths=2, zorder=3)
        ax.annotate(f"box {int(row.box)}: coverage {row.coverage:.0%}, density "
                    f"{row.density:.0%}, mass {row.mass:.0%}",
                    xy=(row.coverage, row.density), xytext=(-10, -16),
                    textcoords="offset points", ha="right", fontsize=8.5, color=PALETTE[3])
    ax.set_xlabel("coverage (share of the cases of interest inside the box)")
    ax.set_ylabel("density (share of the box's cases of interest)")
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title or "PRIM peeling trajectory")
    styled(fig)
    return fig


def box_limits(discovery: dict[str, Any], title: str = "") -> Figure:
    """Each restricted parameter of the chosen box: its range within the full range.

    A numeric parameter is a grey bar over its full range with the box's range on top; a
    categorical one lists its values, those kept in the box filled. Quasi-p-values are in
    the labels.

    Args:
        discovery: the mapping of ``discovery.json``.
        title: the figure title.
    """
    limits = discovery["box"]["limits"]
    rows = max(len(limits), 1)
    fig = new_figure(6.4, 0.9 * rows + 1.2)
    if not limits:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no restriction: the box is the whole design", ha="center",
                va="center", transform=ax.transAxes)
        ax.set_axis_off()
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0] if limits else []
    for ax, lim in zip(axes, limits, strict=False):
        colour = PALETTE[0] if lim["role"] == "lever" else PALETTE[1]
        if lim["type"] == "numeric":
            full = (lim["full_low"], lim["full_high"])
            ax.barh(0, full[1] - full[0], left=full[0], height=0.5, color=GREY)
            ax.barh(0, lim["high"] - lim["low"], left=lim["low"], height=0.5, color=colour)
            ax.set_xlim(full[0] - 0.02 * (full[1] - full[0]),
                        full[1] + 0.02 * (full[1] - full[0]))
            qps = [f"qp {side} {lim[k]:.2g}" for side, k in (("low", "qp_low"),
                   ("high", "qp_high")) if lim[k] is not None]
            inside = f"[{lim['low']:.3g}, {lim['high']:.3g}]"
        else:
            values = lim["full_values"]
            kept = set(lim["values"])
            for j, value in enumerate(values):
                ax.barh(0, 0.8, left=j - 0.4, height=0.5,
                        color=colour if value in kept else GREY)
            ax.set_xticks(range(len(values)), values, fontsize=8)
            ax.set_xlim(-0.6, len(values) - 0.4)
            qps = [f"qp {lim['qp_low']:.2g}"] if lim["qp_low"] is not None else []
            inside = "{" + ", ".join(lim["values"]) + "}"
        ax.set_yticks([])
        ax.set_ylim(-0.5, 0.5)
        ax.set_title(f"{lim['parameter']} ({lim['role']}): {inside}"
                     + (f"  ({', '.join(qps)})" if qps else ""), fontsize=9, loc="left")
        ax.grid(False)
        ax.spines[["top", "right", "left"]].set_visible(False)
    box = discovery["box"]
    fig.suptitle(title or f"Box {discovery['chosen']}: coverage {box['coverage']:.0%}, "
                 f"density {box['density']:.0%}, mass {box['mass']:.0%}", fontsize=11)
    return fig


def plot_discovery(folder: Path, fmt: str = "png") -> list[Path]:
    """Draw ``tradeoff.<fmt>`` and ``box_limits.<fmt>`` into a discovery folder.

    Reads ``trajectory.csv`` and ``discovery.json`` (written by ``normsim discover``).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
    folder = Path(folder)
    discovery = read_discovery(folder)
    trajectory = pd.read_csv(folder / TRAJECTORY_FILE)
    what = (f"P({discovery['outcome']}) >= {discovery['threshold']:g} per point"
            if discovery["per"] == "point" else f"{discovery['outcome']} per run")
    return [
        save(tradeoff(trajectory, title=f"{discovery['sweep']}: PRIM trade-off ({what})"),
             folder / f"tradeoff.{fmt}"),
        save(box_limits(discovery), folder / f"box_limits.{fmt}"),
    ]
