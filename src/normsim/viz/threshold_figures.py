"""The threshold page's figures and its network layout; no Solara here.

The layout is computed once per graph (the page keeps it while the run steps): a
Fruchterman–Reingold layout vectorised in numpy, with the repulsion of each node estimated
from a random sample of others, so a few thousand nodes lay out in well under a second
(networkx's ``spring_layout`` took 2–3 s at 2,000 nodes on this machine). At most
:data:`DRAW_CAP` nodes are drawn.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from normsim.viz.figures import BLOCKER_EDGE, FAN_COLOUR, FIGSIZE

DRAW_CAP = 3000
"""Most nodes drawn; a larger graph is drawn by its first DRAW_CAP nodes."""
NOT_ADOPTED = "#d9d9d9"
SAMPLE = 64
"""Nodes sampled per iteration for the repulsion estimate."""


def layout(adjacency: sp.csr_array, seed: int = 0, iterations: int = 40) -> np.ndarray:
    """Node positions in the unit square: Fruchterman–Reingold with sampled repulsion.

    Args:
        adjacency: the graph (only its ties are read).
        seed: the layout's own seed (the same graph gives the same picture).
        iterations: cooling iterations.

    Returns:
        float array of shape ``(n, 2)``.
    """
    n = adjacency.shape[0]
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2))
    if n < 2:
        return pos
    coo = sp.triu(adjacency, k=1).tocoo()
    i, j = coo.row, coo.col
    k = 1.0 / np.sqrt(n)
    sample = min(SAMPLE, n)
    temperature = 0.1
    for step in range(iterations):
        others = rng.choice(n, size=sample, replace=False)
        delta = pos[:, None, :] - pos[None, others, :]  # (n, S, 2)
        dist2 = np.maximum((delta**2).sum(axis=2), 1e-6)
        push = (delta * (k * k / dist2)[:, :, None]).sum(axis=1) * (n / sample)
        d = pos[i] - pos[j]
        length = np.sqrt(np.maximum((d**2).sum(axis=1), 1e-12))
        pull = d * (length / k)[:, None]
        move = push
        np.add.at(move, i, -pull)
        np.add.at(move, j, pull)
        move += (0.5 - pos) * (n * k * 0.5)  # gravity keeps small components near
        norm = np.sqrt(np.maximum((move**2).sum(axis=1), 1e-12))
        pos += move * (np.minimum(norm, temperature) / norm)[:, None]
        temperature = 0.1 * (1 - (step + 1) / iterations) + 0.002
    pos -= pos.min(axis=0)
    pos /= np.maximum(pos.max(axis=0), 1e-12)
    return pos


def _step_colours(last: int) -> tuple[ListedColormap, BoundaryNorm]:
    cmap = ListedColormap(colormaps["viridis_r"](np.linspace(0.05, 0.95, max(last, 1) + 1)))
    return cmap, BoundaryNorm(np.arange(-0.5, max(last, 1) + 1.5), cmap.N)


def network_figure(adjacency: sp.csr_array, positions: np.ndarray, adoption_step: np.ndarray,
                   t: int) -> Figure:
    """The network, each node coloured by the step at which it adopted (grey: not yet).

    Args:
        adjacency: the graph.
        positions: from :func:`layout`.
        adoption_step: per node, its adoption step or -1.
        t: the current step.

    Returns:
        The figure.
    """
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    n = adjacency.shape[0]
    shown = min(n, DRAW_CAP)
    coo = sp.triu(adjacency[:shown, :shown], k=1).tocoo()
    segments = np.stack([positions[coo.row], positions[coo.col]], axis=1)
    ax.add_collection(LineCollection(segments, colors="#9e9e9e", linewidths=0.3,
                                     alpha=0.35 if shown > 500 else 0.6, zorder=0))
    steps = adoption_step[:shown]
    size = 40 if shown <= 200 else 12 if shown <= 1000 else 6
    grey = steps < 0
    ax.scatter(positions[:shown][grey, 0], positions[:shown][grey, 1], s=size, c=NOT_ADOPTED,
               linewidths=0, zorder=1)
    last = max(int(adoption_step.max()), 1)
    cmap, norm = _step_colours(last)
    ax.scatter(positions[:shown][~grey, 0], positions[:shown][~grey, 1], s=size,
               c=steps[~grey], cmap=cmap, norm=norm, linewidths=0, zorder=2)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.7, pad=0.01)
    bar.set_label("step of adoption (grey: not adopted)", fontsize=7.5)
    bar.ax.tick_params(labelsize=7)
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
    ax.set_axis_off()
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    adopted = int((adoption_step >= 0).sum())
    cap = f" (first {shown:,} of {n:,} drawn)" if shown < n else ""
    ax.set_title(f"Step {t}: {adopted:,} of {n:,} nodes adopted{cap}", fontsize=9.5, loc="left")
    return fig


def cascade_figure(shares: list[float], tipping_share: float) -> Figure:
    """The cascade curve of the single run: adopter share by step, the cascade line.

    Args:
        shares: adopter share after each step (entry 0: the start).
        tipping_share: the scenario's cascade share.

    Returns:
        The figure.
    """
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(range(len(shares)), shares, color=FAN_COLOUR, lw=2.2, marker="o", ms=3)
    ax.axhline(tipping_share, color=BLOCKER_EDGE, ls=(0, (4, 3)), lw=1.2)
    ax.annotate(f"cascade share ({tipping_share:.2f})", (max(len(shares) - 1, 1), tipping_share),
                xytext=(0, 3), textcoords="offset points", fontsize=7.5, color=BLOCKER_EDGE,
                ha="right", va="bottom")
    ax.set_xlim(0, max(len(shares) - 1, 1))
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("step", fontsize=8.5)
    ax.set_ylabel("adopter share", fontsize=8.5)
    ax.tick_params(labelsize=7.5)
    ax.grid(alpha=0.25, lw=0.6)
    ax.set_title(f"Cascade curve: {shares[-1]:.1%} adopted after {len(shares) - 1} steps",
                 fontsize=9.5, loc="left")
    return fig


def sizes_figure(sizes: np.ndarray, tipping_share: float, p_text: str) -> Figure:
    """The distribution of cascade sizes (final adopter share) over the replicates.

    Args:
        sizes: final adopter share of every run.
        tipping_share: the cascade share (a line).
        p_text: P(cascade) with its interval, for the title.

    Returns:
        The figure.
    """
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    bins = np.linspace(0, 1, 41)
    weights = np.full(sizes.size, 1 / max(sizes.size, 1))
    ax.hist(np.clip(sizes, 0, 1), bins=bins, weights=weights, color=FAN_COLOUR, alpha=0.85)
    ax.axvline(tipping_share, color=BLOCKER_EDGE, ls=(0, (4, 3)), lw=1.2)
    ax.set_xlim(0, 1)
    ax.set_xlabel("cascade size (final adopter share)", fontsize=8.5)
    ax.set_ylabel("share of runs", fontsize=8.5)
    ax.tick_params(labelsize=7.5)
    ax.grid(axis="y", alpha=0.25, lw=0.6)
    ax.set_title(f"Cascade sizes over {sizes.size} runs · P(cascade) {p_text}", fontsize=9.5,
                 loc="left")
    return fig
