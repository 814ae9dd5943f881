"""The page's matplotlib figures, drawn from a model; no Solara here.

Every function takes an :class:`~normsim.models.region.model.RegionModel` (the single run)
or an :class:`~normsim.viz.ensemble.Ensemble` (R runs) and returns a
:class:`matplotlib.figure.Figure` built without pyplot, so figures are safe to draw from the
server's threads and are garbage-collected with the page. Colours follow the life cycle
from grey (resistant) to dark blue (internalized), in every figure alike.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from normsim.models.region.norms import RegionalStage, StateStage
from normsim.plotting.style import STATE_STAGE_COLOURS

if TYPE_CHECKING:
    from mesa.visualization.components import AgentPortrayalStyle

    from normsim.models.region.agents import MemberState
    from normsim.models.region.model import RegionModel
    from normsim.viz.ensemble import Ensemble

STAGE_COLOURS: dict[StateStage, str] = {s: STATE_STAGE_COLOURS[s.name.lower()] for s in StateStage}
"""Fill colour of a state by its own life-cycle stage (the house colours, plotting.style)."""

REGION_COLOURS: dict[RegionalStage, str] = {
    RegionalStage.EMERGENCE: "#f2f2f2",
    RegionalStage.CASCADE: "#dbe9f6",
    RegionalStage.INTERNALIZATION: "#b3cde3",
}
"""Background of the adoption chart by the region's life-cycle stage."""

ENTREPRENEUR_EDGE = "#e69f00"
"""Ring around an active norm entrepreneur."""
BLOCKER_EDGE = "#d62728"
"""Ring around a state that objected at this year's summit."""

SIZE_BY = ("support", "peacekeepers")
"""What a node's area can show: support for the norm, or uniformed UN peacekeepers."""

_DPI = 110
FIGSIZE = (4.7, 3.7)
"""Size of every figure (inches at 110 dpi): about one cell of the page's grid."""
_MIN_AREA, _MAX_AREA = 160.0, 1500.0
TIE_MIN_WIDTH, TIE_WIDTH = 0.3, 2.5
"""A tie's line width (points): the minimum plus the width per strongest starting tie."""


def png(fig: Figure) -> bytes:
    """Render a figure to PNG bytes.

    Args:
        fig: the figure.

    Returns:
        The PNG file's bytes.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI)
    return buffer.getvalue()


def node_positions(model: RegionModel) -> dict[int, tuple[float, float]]:
    """Node positions of the network: the scenario's map positions, or a seeded tie layout.

    Map positions are data (``states.<CODE>.position``, longitude and latitude); when a
    member has none, every node falls back to a layout of the tie network, which uses the
    scenario's ties at the start, so nodes stay put when events change
    the ties during the run.

    Args:
        model: the model whose ``grid`` is drawn.

    Returns:
        Position of every node id.
    """
    states = model.norm_scenario.data["states"]
    positions = [states[code]["position"] for code in model.params.codes]
    if all(positions):
        return {i: (float(x), float(y)) for i, (x, y) in enumerate(positions)}
    import networkx as nx

    layout = nx.spring_layout(nx.from_numpy_array(model.params.ties), weight="weight", seed=0)
    return {int(node): (float(xy[0]), float(xy[1])) for node, xy in sorted(layout.items())}


def tie_strengths(model: RegionModel) -> dict[tuple[int, int], float]:
    """The current tie of every edge of the network, as the Mesa space holds it.

    The model syncs the space's edge weights with the dynamics' ties after every step, so
    ties thickened by cooperation events show.

    Args:
        model: the model whose ``grid`` is drawn.

    Returns:
        The tie (0–1) of every edge ``(i, j)`` of node ids.
    """
    return {(int(i), int(j)): float(w) for i, j, w in model.grid.G.edges(data="weight")}


def node_area(agent: MemberState, size_by: str) -> float:
    """Marker area (points²) of a state: its support, or the square root of its peacekeepers.

    Args:
        agent: the member state.
        size_by: one of :data:`SIZE_BY`.

    Returns:
        The area, between a visible minimum and a maximum.
    """
    if size_by == "peacekeepers":
        largest = max((a.personnel for a in agent.model.agents), default=0)
        share = math.sqrt(agent.personnel / largest) if largest > 0 else 0.0
    else:
        share = agent.support
    return _MIN_AREA + (_MAX_AREA - _MIN_AREA) * min(max(share, 0.0), 1.0)


def network_figure(
    model: RegionModel,
    portrayal: Callable[[Any], AgentPortrayalStyle],
    size_by: str = "support",
) -> Figure:
    """The member states on the map, with ties, stages, entrepreneurs and blockers.

    Args:
        model: the model.
        portrayal: the agent portrayal (colour, size, ring) passed to Mesa's drawer.
        size_by: what node area shows, one of :data:`SIZE_BY` (for the legend).

    Returns:
        The figure.
    """
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    positions = node_positions(model)
    # Widths on the scale of the scenario's strongest tie at the start, so that ties
    # thickened by cooperation events draw wider than they began.
    strongest = float(model.params.ties.max()) or 1.0
    for (i, j), tie in tie_strengths(model).items():
        weight = tie / strongest
        (x0, y0), (x1, y1) = positions[i], positions[j]
        ax.plot(
            [x0, x1],
            [y0, y1],
            color="#7f7f7f",
            lw=TIE_MIN_WIDTH + TIE_WIDTH * weight,
            alpha=min(0.08 + 0.4 * weight, 1.0),
            zorder=0,
            solid_capstyle="round",
        )
    # Markers are drawn here rather than by Mesa 3.5.1's draw_space, which ignores the
    # portrayal's size and drops markers whose zorder is not 1.
    for agent in model.agents:
        style = portrayal(agent)
        x, y = positions[agent.cell.coordinate]
        ax.scatter(
            [x],
            [y],
            s=style.size,
            c=[style.color],
            marker=style.marker,
            alpha=style.alpha,
            edgecolors=style.edgecolors,
            linewidths=style.linewidths,
            zorder=style.zorder,
        )
    for agent in model.agents:
        x, y = positions[agent.cell.coordinate]
        offset = math.sqrt(node_area(agent, size_by)) / 2 + 2
        value = f"{agent.support:.2f}" if size_by == "support" else f"{agent.personnel:,}"
        ax.annotate(
            f"{agent.code}\n",
            (x, y),
            xytext=(0, -offset),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8,
            fontweight="bold",
            zorder=5,
        )
        ax.annotate(
            f"\n{value}",
            (x, y),
            xytext=(0, -offset),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=7,
            color="#444444",
            zorder=5,
        )
    xs, ys = zip(*positions.values(), strict=True)
    pad_x, pad_y = 0.09 * (max(xs) - min(xs)) + 1e-9, 0.12 * (max(ys) - min(ys)) + 1e-9
    ax.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
    ax.set_ylim(min(ys) - 1.6 * pad_y, max(ys) + pad_y)
    ax.set_axis_off()
    ax.set_title(f"Member states in {model.year}", fontsize=9.5, loc="left")
    handles: list[Any] = [
        Line2D(
            [], [], ls="", marker="o", ms=8, mfc=STAGE_COLOURS[s], mec="white", label=s.name.lower()
        )
        for s in StateStage
    ]
    handles += [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            ms=8,
            mfc="white",
            mec=ENTREPRENEUR_EDGE,
            mew=2.5,
            label="norm entrepreneur",
        ),
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            ms=8,
            mfc="white",
            mec=BLOCKER_EDGE,
            mew=2.5,
            label="blocked at summit",
        ),
        Line2D([], [], color="#7f7f7f", lw=2, label="tie (width = strength)"),
    ]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=3,
        fontsize=6.5,
        frameon=False,
        title=f"node area: {_size_label(size_by)}",
        title_fontsize=6.5,
        columnspacing=1.0,
        handletextpad=0.3,
    )
    return fig


def adoption_figure(model: RegionModel) -> Figure:
    """Adopter share and mean support over the run, the tipping line and the region's stage.

    Args:
        model: the model.

    Returns:
        The figure.
    """
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    table = model.datacollector.get_model_vars_dataframe()
    start, steps = model.params.start_year, model.params.steps
    years = start + np.arange(len(table))
    stages = [RegionalStage[s.upper()] for s in table["regional_stage"]]
    for year, stage in zip(years, stages, strict=True):
        ax.axvspan(year - 0.5, year + 0.5, color=REGION_COLOURS[stage], lw=0, zorder=0)
    tip = model.params.tipping_share
    ax.axhline(tip, color=BLOCKER_EDGE, ls=(0, (4, 3)), lw=1.2, zorder=1)
    tip_text = "one-third" if math.isclose(tip, 1 / 3, abs_tol=5e-3) else f"{tip:.2f}"
    ax.annotate(
        f"tipping point ({tip_text})",
        (start + steps + 0.4, tip),
        xytext=(0, 3),
        textcoords="offset points",
        fontsize=7.5,
        color=BLOCKER_EDGE,
        va="bottom",
        ha="right",
    )
    ax.plot(
        years,
        table["adopter_share"],
        color=STAGE_COLOURS[StateStage.INTERNALIZED],
        lw=2.2,
        marker="o",
        ms=3,
        label="adopter share",
        zorder=3,
    )
    ax.plot(
        years,
        table["mean_support"],
        color="#e6550d",
        lw=1.5,
        ls="--",
        label="mean support",
        zorder=3,
    )
    summit_marks = {"blocked": ([], []), "adopted": ([], [])}
    for event in model.events:
        if event["kind"] == "summit":
            key = "adopted" if "adopts" in event["text"] else "blocked"
            summit_marks[key][0].append(event["year"])
            summit_marks[key][1].append(1.04)
    ax.plot(
        *summit_marks["blocked"],
        ls="",
        marker="v",
        color=BLOCKER_EDGE,
        ms=6,
        label="summit: blocked",
        zorder=4,
        clip_on=False,
    )
    ax.plot(
        *summit_marks["adopted"],
        ls="",
        marker="*",
        color="#2ca02c",
        ms=10,
        label="summit: force adopted",
        zorder=4,
        clip_on=False,
    )
    ax.set_xlim(start - 0.5, start + steps + 0.5)
    ax.set_ylim(0, 1.08)
    ax.set_xlabel("year", fontsize=8)
    ax.set_ylabel("share of states · mean support", fontsize=8)
    ax.tick_params(labelsize=7.5)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", color="white", lw=0.8)
    ax.set_title(f"Adoption over time: region in {stages[-1].name.lower()}", fontsize=9.5)
    bands = [
        Patch(color=REGION_COLOURS[s], label=f"region: {s.name.lower()}") for s in RegionalStage
    ]
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(
        handles=[*handles, *bands],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.14),
        ncols=3,
        fontsize=6.5,
        frameon=False,
        columnspacing=1.0,
        handletextpad=0.4,
    )
    return fig


def norm_label(name: str, width: int = 11) -> str:
    """A declared norm's name as a short column label: its first words, on up to two lines."""
    lines = textwrap.wrap(name, width, break_long_words=False)
    return "\n".join(lines[:2]) + ("…" if len(lines) > 2 else "")


def norms_figure(model: RegionModel) -> Figure:
    """A states × prior-norms heatmap of norm strength, and each state's support and threshold.

    Args:
        model: the model.

    Returns:
        The figure.
    """
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    heat_ax, bar_ax = fig.subplots(1, 2, sharey=True, width_ratios=[3.2, 1.4])
    agents = sorted(model.agents, key=lambda a: a.index)
    keys = model.params.norm_keys
    strengths = np.array([[a.norms[k] for k in keys] for a in agents]).reshape(len(agents),
                                                                              len(keys))
    heat_ax.imshow(strengths, cmap="Purples", vmin=0.0, vmax=1.0, aspect="auto")
    for (row, col), value in np.ndenumerate(strengths):
        heat_ax.text(
            col,
            row,
            f"{value:.2f}",
            ha="center",
            va="center",
            fontsize=6,
            color="white" if value > 0.6 else "black",
        )
    declared = model.norm_scenario.data["norms"]
    heat_ax.set_xticks(range(len(keys)), [norm_label(declared[k]["name"]) for k in keys],
                       fontsize=6)
    heat_ax.set_yticks(range(len(agents)), [a.code for a in agents], fontsize=7.5)
    heat_ax.tick_params(length=0)
    heat_ax.set_title(f"strength of the {len(keys)} prior norms (0–1)", fontsize=8)
    rows = np.arange(len(agents))
    bar_ax.barh(
        rows,
        [a.support for a in agents],
        height=0.7,
        color=[STAGE_COLOURS[a.stage] for a in agents],
    )
    bar_ax.plot(
        [a.threshold for a in agents],
        rows,
        ls="",
        marker="|",
        ms=11,
        mew=2,
        color="black",
        label="adoption threshold",
    )
    bar_ax.set_xlim(0, 1)
    bar_ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"], fontsize=7)
    bar_ax.tick_params(axis="y", length=0)
    bar_ax.set_title("support for the proposal", fontsize=8)
    bar_ax.set_xlabel("support (0–1)", fontsize=8)
    bar_ax.grid(axis="x", color="#dddddd", lw=0.6)
    bar_ax.set_axisbelow(True)
    handles = [Patch(color=STAGE_COLOURS[s], label=s.name.lower()) for s in StateStage]
    handles.append(Line2D([], [], ls="", marker="|", ms=9, mew=2, color="black", label="threshold"))
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=4,
        fontsize=6.5,
        frameon=False,
        columnspacing=1.0,
        handletextpad=0.4,
        title="bar colour: the state's stage",
        title_fontsize=6.5,
    )
    fig.suptitle(f"Prior norms and support, {model.year}", fontsize=9.5)
    return fig


def _size_label(size_by: str) -> str:
    return "support (0–1)" if size_by == "support" else "UN peacekeepers (√ scale)"


# --------------------------------------------------------------------------- the ensemble

FAN_COLOUR = STAGE_COLOURS[StateStage.INTERNALIZED]
BASELINE_COLOUR = "#636363"


def _tip_label(tip: float) -> str:
    return "one-third" if math.isclose(tip, 1 / 3, abs_tol=5e-3) else f"{tip:.2f}"


def fan_figure(ensemble: Ensemble, baseline: Ensemble | None = None) -> Figure:
    """The adopter share over R runs: median, 50% and 90% bands, the tipping line.

    Args:
        ensemble: this setting's runs.
        baseline: the pinned baseline's runs, drawn as its median and 90% band outline.

    Returns:
        The figure.
    """
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    years, (q05, q25, q50, q75, q95) = ensemble.years, ensemble.fan
    ax.fill_between(years, q05, q95, color=FAN_COLOUR, alpha=0.18, lw=0, label="90% of runs")
    ax.fill_between(years, q25, q75, color=FAN_COLOUR, alpha=0.38, lw=0, label="50% of runs")
    ax.plot(years, q50, color=FAN_COLOUR, lw=2.2, label="median")
    if baseline is not None:
        b05, _, b50, _, b95 = baseline.fan
        ax.plot(baseline.years, b50, color=BASELINE_COLOUR, lw=1.4, ls="--",
                label="baseline median")
        for band in (b05, b95):
            ax.plot(baseline.years, band, color=BASELINE_COLOUR, lw=0.7, ls=":")
    tip = ensemble.tipping_share
    ax.axhline(tip, color=BLOCKER_EDGE, ls=(0, (4, 3)), lw=1.2)
    ax.annotate(f"tipping point ({_tip_label(tip)})", (years[-1], tip), xytext=(0, 3),
                textcoords="offset points", fontsize=7.5, color=BLOCKER_EDGE, va="bottom",
                ha="right")
    ax.set_xlim(years[0], years[-1])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("adopter share", fontsize=8.5)
    ax.tick_params(labelsize=7.5)
    ax.grid(alpha=0.25, lw=0.6)
    ax.set_title(f"Adopter share over {ensemble.n} runs · P(cascade by {ensemble.end_year}) "
                 f"{ensemble.cascade.p:.0%}", fontsize=9.5, loc="left")
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    return fig


def outcomes_figure(ensemble: Ensemble, baseline: Ensemble | None = None) -> Figure:
    """The tipping year of the runs that tipped, and the states that blocked most often.

    Args:
        ensemble: this setting's runs.
        baseline: the pinned baseline's runs (its histogram as an outline).

    Returns:
        The figure: the histogram above, the blockers below.
    """
    fig = Figure(figsize=FIGSIZE, layout="constrained")
    top, bottom = fig.subplots(2, 1, height_ratios=(1.25, 1))
    years = ensemble.years
    counts = dict(ensemble.tipping_years)
    shares = np.array([counts.get(int(y), 0) for y in years]) / max(ensemble.n, 1)
    top.bar(years, shares, width=0.8, color=FAN_COLOUR, alpha=0.85, label="this setting")
    if baseline is not None:
        theirs = dict(baseline.tipping_years)
        base = np.array([theirs.get(int(y), 0) for y in years]) / max(baseline.n, 1)
        top.step(years, base, where="mid", color=BASELINE_COLOUR, lw=1.3, label="baseline")
        top.legend(fontsize=7, frameon=False)
    top.set_xlim(years[0] - 0.6, years[-1] + 0.6)
    top.xaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_ylabel("share of runs", fontsize=8)
    top.tick_params(labelsize=7.5)
    top.grid(axis="y", alpha=0.25, lw=0.6)
    tipped = ensemble.cascade
    top.set_title(f"Tipping year ({tipped.k} of {tipped.n} runs tipped)", fontsize=9.5,
                  loc="left")
    shown = ensemble.blockers[:8]
    if shown:
        codes = [code for code, _ in shown][::-1]
        share = [k / max(ensemble.n, 1) for _, k in shown][::-1]
        bottom.barh(codes, share, color=BLOCKER_EDGE, alpha=0.8, height=0.7)
        bottom.set_xlim(0, 1)
    else:
        bottom.text(0.5, 0.5, "no summit was blocked", ha="center", va="center",
                    fontsize=8.5, color="#777", transform=bottom.transAxes)
        bottom.set_yticks([])
    bottom.tick_params(labelsize=7.5)
    bottom.set_xlabel("share of runs", fontsize=8)
    bottom.set_title("Blockers of the last failed summit vote", fontsize=9.5, loc="left")
    return fig
