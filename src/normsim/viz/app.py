"""The SolaraViz page of the regional norm model: the portrayal, the components and ``Page``.

Launch with ``normsim viz [SCENARIO] [--port P]``, or
``python -m solara run normsim.viz.app --host 127.0.0.1`` (``$NORMSIM_SCENARIO`` names the
scenario the page opens with). Each browser session builds its own model. The figures are
drawn in :mod:`normsim.viz.figures`, the controls and their checks live in
:mod:`normsim.viz.controls`; this module only arranges them.
"""

from __future__ import annotations

import functools
import html
from typing import Any

import reacton.ipywidgets as rw
import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz
from mesa.visualization.components import AgentPortrayalStyle
from mesa.visualization.utils import update_counter

from normsim.models.region.norms import RegionalStage, StateStage
from normsim.viz.controls import PageModel, launch_scenario, model_params
from normsim.viz.figures import (
    BLOCKER_EDGE,
    ENTREPRENEUR_EDGE,
    SIZE_BY,
    STAGE_COLOURS,
    adoption_figure,
    network_figure,
    node_area,
    norms_figure,
    png,
)

TITLE = "normsim · regional norm model"
FIGURE_HEIGHT = "370px"
"""Height of every figure: a grid cell of SolaraViz's default layout is 390 px high."""

EVENT_COLOURS = {
    "summit": BLOCKER_EDGE,
    "stage": STAGE_COLOURS[StateStage.INTERNALIZED],
    "region": "#6a3d9a",
    "proposal": ENTREPRENEUR_EDGE,
}


def agent_portrayal(agent: Any, size_by: str = "support") -> AgentPortrayalStyle:
    """A member state: coloured by stage, sized by support or peacekeepers, ringed if notable.

    Args:
        agent: a :class:`~normsim.models.region.agents.MemberState`.
        size_by: what the node's area shows, one of :data:`~normsim.viz.figures.SIZE_BY`.

    Returns:
        The portrayal: an entrepreneur has an amber ring, a state that blocked this year's
        summit a red one.
    """
    ring, width = "white", 1.0
    if agent.is_entrepreneur:
        ring, width = ENTREPRENEUR_EDGE, 3.0
    elif agent.blocked_last_vote:
        ring, width = BLOCKER_EDGE, 3.0
    return AgentPortrayalStyle(
        color=STAGE_COLOURS[agent.stage],
        size=node_area(agent, size_by),
        edgecolors=ring,
        linewidths=width,
        zorder=2,
    )


def _image(fig: Figure) -> rw.Image:
    return rw.Image(
        value=png(fig),
        format="png",
        layout={"width": "100%", "height": FIGURE_HEIGHT, "object_fit": "contain"},
    )


@solara.component
def NetworkView(model: PageModel) -> None:
    """The network card, with its node-size switch."""
    update_counter.get()
    size_by, set_size_by = solara.use_state(SIZE_BY[0])
    portrayal = functools.partial(agent_portrayal, size_by=size_by)
    with solara.Column(gap="0px", style={"position": "relative"}):
        _image(network_figure(model, portrayal, size_by))
        with solara.Row(style={"position": "absolute", "top": "2px", "right": "6px"}):
            solara.ToggleButtonsSingle(
                value=size_by, values=list(SIZE_BY), on_value=set_size_by, dense=True
            )


@solara.component
def AdoptionView(model: PageModel) -> None:
    """Adoption share over time with the tipping line and the region's stage."""
    update_counter.get()
    _image(adoption_figure(model))


@solara.component
def NormsView(model: PageModel) -> None:
    """The states × six-norms heatmap and support per state."""
    update_counter.get()
    _image(norms_figure(model))


@solara.component
def RunLog(model: PageModel) -> None:
    """What this run is, notes on refused control values, and the event log."""
    update_counter.get()
    with solara.Column(gap="4px", style={"height": "375px", "padding": "6px 10px"}):
        solara.HTML(
            tag="div",
            unsafe_innerHTML=_status_html(model),
            style="font-size: 13px; line-height: 1.45",
        )
        for note in getattr(model, "notes", []):
            solara.Warning(note, dense=True, text=True, outlined=False)
        solara.HTML(
            tag="div",
            unsafe_innerHTML=_events_html(model),
            style="flex: 1 1 auto; overflow-y: auto; font-size: 12.5px; min-height: 0; "
            "border-top: 1px solid #ddd",
        )


@solara.component
def Page() -> None:
    """The page: one model per browser session, SolaraViz's sidebar and four views."""
    params = solara.use_memo(lambda: model_params(launch_scenario()), [])
    model = solara.use_memo(lambda: PageModel(**{k: v["value"] for k, v in params.items()}), [])
    solara.Title(TITLE)
    SolaraViz(
        model,
        components=[NetworkView, AdoptionView, NormsView, RunLog],
        model_params=params,
        name=TITLE,
        play_interval=300,
    )


page = Page


def _status_html(model: PageModel) -> str:
    data, params = model.norm_scenario.data, model.params
    adopters = sum(a.stage is not StateStage.RESISTANT for a in model.agents)
    region = RegionalStage(int(model.state.regional[0])).name.lower()
    adopted = (
        "<b style='color:#2ca02c'>adopted by consensus</b>"
        if model.state.institution[0]
        else "not adopted"
    )
    roles = data["entrepreneurs"]
    who = (
        ", ".join(
            f"{code} {role['intensity']:.2f} {role['strategy']}" for code, role in roles.items()
        )
        or "none"
    )
    shocks = [
        f"{e['type'].replace('_', ' ')} {e['year']}"
        for e in data["events"]
        if e["type"] in ("crisis", "un_push")
    ]
    lines = [
        f"<b>{html.escape(str(getattr(model, 'scenario_name', data['name'])))}</b> · "
        f"<b>{model.year}</b> (step {model.state.step} of {params.steps}) · "
        f"region: <b>{region}</b> · adopters {adopters}/{params.n_states} · force {adopted}",
        f"framing {data['norm']['framing']} · entrepreneurs: {html.escape(who)} · "
        f"tipping share {params.tipping_share:.2f} · "
        f"crisis/UN push: {', '.join(shocks) or 'none'} · seed {getattr(model, 'seed', '—')}",
    ]
    return "<br>".join(lines)


def _events_html(model: PageModel) -> str:
    if not model.events:
        return (
            "<p style='color:#777;margin:6px 0'>Event log: proposals, summits and who "
            "blocked, stage changes appear here as the run goes on.</p>"
        )
    rows = []
    for event in reversed(model.events):
        colour = EVENT_COLOURS.get(event["kind"], "#555")
        if event["kind"] == "summit" and "adopts" in event["text"]:
            colour = "#2ca02c"
        rows.append(
            f"<tr><td style='padding:1px 8px 1px 0;color:#555'>{event['year']}</td>"
            f"<td style='padding:1px 8px 1px 0;color:{colour};font-weight:600'>"
            f"{html.escape(event['kind'].replace('_', ' '))}</td>"
            f"<td style='padding:1px 0'>{html.escape(event['text'])}</td></tr>"
        )
    return (
        "<table style='border-collapse:collapse;width:100%'>"
        "<thead><tr style='text-align:left;color:#333'><th>year</th><th>event</th>"
        "<th>what happened</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )
