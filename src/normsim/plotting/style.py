"""The house style of every figure: colours, rc settings, the figure factory, saving.

Figures are built without pyplot, so nothing global changes and they can be drawn in
worker processes, tests, notebooks and the browser page alike. The colours of the life
cycle live here once; the viz imports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from normsim.outdir import atomic_file

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
"""Okabe–Ito colours: distinguishable with colour-vision deficiencies."""
STAGE_COLOURS = {"emergence": "#BBBBBB", "cascade": "#E69F00", "internalization": "#009E73"}
"""The region's life-cycle stages (Finnemore & Sikkink 1998), by stage name."""
STATE_STAGE_COLOURS = {"resistant": "#b8b8b8", "adopter": "#6baed6", "internalized": "#08519c"}
"""A state's own stage, by stage name: grey (resistant) to dark blue (internalized)."""
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


def new_figure(width: float, height: float) -> Figure:
    """A figure in the house style, constrained layout, without pyplot."""
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(width, height), layout="constrained")
    return fig


def styled(fig: Figure) -> None:
    """Apply the house style to every axes of a figure (rc_context is not sticky)."""
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>":
            continue
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(True, alpha=0.3)
        ax.set_axisbelow(True)


def tipping_line(ax: Any, share: float) -> None:
    """The tipping share as a labelled dashed line (one-third named as such)."""
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


def outcome_label(outcome: str, end_year: int | None = None) -> str:
    """``P(cascade by 2035)``, ``P(institutional adoption)``, ... for an outcome column."""
    what = {
        "cascade_reached": "P(cascade",
        "institutional_adoption": "P(institutional adoption",
    }.get(outcome, f"P({outcome}")
    return f"{what} by {end_year})" if end_year else f"{what})"


def save(fig: Figure, path: Path) -> Path:
    """Save a figure (format from the suffix), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip("."))
    return path
