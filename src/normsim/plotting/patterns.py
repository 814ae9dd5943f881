"""The figure of a mechanism-necessity table: mechanisms x patterns, coloured by P(match)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from normsim.plotting.style import new_figure, save

FULL = "(full model)"
DROP_COLOUR = "#D55E00"  # vermilion (Okabe–Ito): visible on every viridis colour


def ablation_heatmap(ablation: pd.DataFrame, patterns: pd.DataFrame | None = None) -> Figure:
    """Rows: the full model, then each mechanism switched off; columns: the patterns.

    Each cell is coloured by P(match) and written out; a vermilion ring marks a significant
    drop below the full model (the ``drops`` column of ``ablation.csv``).

    Args:
        ablation: the long table written as ``ablation.csv`` (mechanism, pattern, p_match,
            p_full, drops).
        patterns: the table written as ``patterns.csv``, for the full model's row and the
            pattern order (default: the order in ``ablation``).
    """
    ids = list(dict.fromkeys(patterns["pattern"] if patterns is not None
                             else ablation["pattern"]))
    mechanisms = list(dict.fromkeys(ablation["mechanism"]))
    cells = ablation.set_index(["mechanism", "pattern"])
    full = (patterns.set_index("pattern")["p_match"] if patterns is not None
            else ablation.groupby("pattern")["p_full"].first())
    rows = [FULL, *mechanisms]
    value = np.full((len(rows), len(ids)), np.nan)
    drop = np.zeros_like(value, dtype=bool)
    for j, p in enumerate(ids):
        value[0, j] = full.get(p, np.nan)
        for i, m in enumerate(mechanisms, start=1):
            if (m, p) in cells.index:
                value[i, j] = cells.loc[(m, p), "p_match"]
                drop[i, j] = bool(cells.loc[(m, p), "drops"])
    fig = new_figure(1.0 + 0.75 * len(ids), 1.2 + 0.33 * len(rows))
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(value), cmap="viridis", vmin=0, vmax=1,
                      aspect="auto")
    for i in range(len(rows)):
        for j in range(len(ids)):
            if np.isnan(value[i, j]):
                continue
            ax.text(j, i, f"{value[i, j]:.0%}", ha="center", va="center", fontsize=7,
                    color="white" if value[i, j] < 0.6 else "black")
            if drop[i, j]:
                ax.scatter(j, i, s=380, facecolors="none", edgecolors=DROP_COLOUR,
                           linewidths=1.8)
    ax.axhline(0.5, color="white", lw=2)
    ax.set_xticks(range(len(ids)), ids, rotation=40, ha="right")
    ax.set_yticks(range(len(rows)), [f"{r}" if r == FULL else f"no {r}" for r in rows])
    ax.grid(False)
    ax.set_title("P(match) with each mechanism switched off (ring: significant drop)")
    fig.colorbar(image, ax=ax, label="P(match)", shrink=0.8)
    return fig


def plot_ablation(directory: Path, fmt: str = "png") -> Path:
    """Draw ``ablation.csv`` (and ``patterns.csv``) of a folder into figures/ablation.<fmt>."""
    directory = Path(directory)
    ablation = pd.read_csv(directory / "ablation.csv")
    patterns_file = directory / "patterns.csv"
    patterns = pd.read_csv(patterns_file) if patterns_file.is_file() else None
    return save(ablation_heatmap(ablation, patterns), directory / "figures" / f"ablation.{fmt}")
