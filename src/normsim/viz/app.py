"""The browser page of the regional norm model: one run beside the ensemble of R runs.

Launch with ``normsim viz [SCENARIO] [--port P]``, or
``python -m solara run normsim.viz.app --host 127.0.0.1`` (``$NORMSIM_SCENARIO`` names the
scenario the page opens with). Each browser session builds its own model. The single run
is the Mesa model (:class:`~normsim.viz.controls.PageModel`), stepped by Step and Play and
rebuilt by Reset; the ensemble is R replicates of the sidebar's setting on the batch engine
(:mod:`normsim.viz.ensemble`), rerun in a thread whenever a lever moves: a lever moved
during an update restarts it and the stale result is dropped, so the controls never wait.
The figures are drawn in :mod:`normsim.viz.figures`, the controls and their checks live in
:mod:`normsim.viz.controls`, the frame in :mod:`normsim.viz.shell`; this module only
arranges them. Under a posterior (``normsim viz --posterior DIR``) the ensemble is a
posterior ensemble (R runs spread over the draws, :func:`ensemble_update`) and the page
says so above its probabilities; the single run uses one draw.
"""

from __future__ import annotations

import dataclasses
import functools
import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import solara
from mesa.visualization.components import AgentPortrayalStyle

from normsim.models.region.norms import RegionalStage, StateStage
from normsim.scenario import Scenario, load_scenario
from normsim.viz import ensemble as ens
from normsim.viz.controls import (
    AS_SCENARIO,
    NO_STATE,
    PageModel,
    checked_scenario,
    launch_draws,
    launch_scenario,
    model_kwargs,
    model_params,
)
from normsim.viz.figures import (
    BLOCKER_EDGE,
    ENTREPRENEUR_EDGE,
    SIZE_BY,
    STAGE_COLOURS,
    adoption_figure,
    fan_figure,
    network_figure,
    node_area,
    norms_figure,
    outcomes_figure,
    png,
)
from normsim.viz.shell import CSS, Card, LabelledSlider, RunButtons, Runner, image

if TYPE_CHECKING:
    from normsim.experiments.posterior import Draws

TITLE = "normsim · regional norm model"
REPLICATE_RANGE = (50, 5000)
"""Range of the replicates control R."""

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


@dataclass(frozen=True)
class EnsembleView:
    """One ensemble update: the statistics and its two figures, drawn off the page's thread.

    Attributes:
        stats: the ensemble.
        fan: the fan chart (PNG).
        outcomes: the tipping-year histogram and the blockers (PNG).
        seconds: how long the update took.
    """

    stats: ens.Ensemble
    fan: bytes
    outcomes: bytes
    seconds: float


def setting_label(scenario: Scenario, kwargs: dict[str, Any]) -> str:
    """The setting in words: the scenario and the levers that change it."""
    changed = [f"{k.replace('_', ' ')} {v:g}" if isinstance(v, float) else
               f"{k.replace('_', ' ')} {v}" for k, v in kwargs.items()
               if k not in ("scenario", "rng", "steps")
               and v not in (None, "", AS_SCENARIO, NO_STATE)]
    return " · ".join([scenario.name, *changed]) if changed else f"{scenario.name} as written"


def ensemble_update(scenario_name: str, values: dict[str, Any], replicates: int, seed: int,
                    baseline: ens.Ensemble | None = None, draws: Draws | None = None
                    ) -> EnsembleView:
    """What a lever change computes: the setting, R replicates, the statistics, the figures.

    Args:
        scenario_name: the scenario chosen.
        values: the lever controls' values.
        replicates: R.
        seed: the master seed.
        baseline: the pinned baseline, drawn for comparison.
        draws: posterior draws: the R replicates are spread over them, each draw's values
            applied before the levers (a scenario that cannot take them runs as written,
            and the ensemble says so).

    Returns:
        The update (the page shows it unless a newer one has started).
    """
    import time

    started = time.perf_counter()
    base = load_scenario(scenario_name)
    levers = model_kwargs(base, values)
    label = setting_label(base, levers)
    problems = draws.check(base) if draws is not None else []
    if draws is not None and not problems:
        stats = ens.run_ensemble(base, replicates, seed, label=label, draws=draws,
                                 prepare=functools.partial(_with_levers, levers=levers))
    else:
        chosen = checked_scenario(base, [], **levers)
        stats = ens.run_ensemble(chosen, replicates, seed, label=label)
        if problems:
            stats = dataclasses.replace(stats, posterior=(
                f"not a posterior ensemble: the posterior of {draws.calibration} does not "
                f"apply to {base.name} ({problems[0].path}: {problems[0].message})"))
    fan = png(fan_figure(stats, baseline))
    outcomes = png(outcomes_figure(stats, baseline))
    return EnsembleView(stats, fan, outcomes, time.perf_counter() - started)


def _with_levers(scenario: Scenario, levers: dict[str, Any]) -> Scenario:
    """The levers applied to a draw's scenario (module level: no lambda in a task)."""
    return checked_scenario(scenario, [], **levers)


LEVER_NAMES = tuple(k for k in model_params("asean-2024") if k not in ("scenario", "rng"))


def _seed(text: str) -> int:
    text = str(text).strip()
    return int(text) if text.isascii() and text.isdigit() else 0


@solara.component
def NetworkView(runner: Runner, version: int) -> None:
    """The network card, with its node-size switch."""
    size_by, set_size_by = solara.use_state(SIZE_BY[0])
    portrayal = functools.partial(agent_portrayal, size_by=size_by)
    with runner.lock:
        data = png(network_figure(runner.model, portrayal, size_by))
    with solara.Column(gap="0px", style={"position": "relative"}):
        image(data)
        with solara.Row(style={"position": "absolute", "top": "0px", "right": "6px"}):
            solara.ToggleButtonsSingle(
                value=size_by, values=list(SIZE_BY), on_value=set_size_by, dense=True
            )


@solara.component
def RunLog(model: PageModel, version: int) -> None:
    """What this run is, notes on refused control values, and the event log.

    ``version`` counts the steps taken: a new value redraws the log (the model object
    itself stays the same, so it alone would not).
    """
    with solara.Column(gap="4px", style={"height": "380px", "padding": "2px 4px"}):
        solara.HTML(tag="div", unsafe_innerHTML=_status_html(model),
                    style="font-size: 13px; line-height: 1.45")
        for note in getattr(model, "notes", []):
            solara.Warning(note, dense=True, text=True, outlined=False)
        solara.HTML(tag="div", unsafe_innerHTML=_events_html(model),
                    style="flex: 1 1 auto; overflow-y: auto; font-size: 12.5px; min-height: 0; "
                    "border-top: 1px solid #ddd")


@solara.component
def EnsembleStats(view: EnsembleView | None, baseline: ens.Ensemble | None,
                  pending: bool) -> None:
    """The probabilities with their intervals, and the comparison with the baseline."""
    with solara.Column(gap="6px", style={"padding": "2px 4px", "min-height": "380px"}):
        if view is None:
            solara.HTML(tag="div", unsafe_innerHTML="running the ensemble…",
                        classes=["normsim-busy"])
            return
        solara.HTML(tag="div", unsafe_innerHTML=_ensemble_html(view, baseline, pending),
                    style="font-size: 13px; line-height: 1.5")


@solara.component
def Page() -> None:
    """The page: the sidebar (run, levers, ensemble), the single run and the ensemble."""
    first = solara.use_memo(launch_scenario, [])
    draws = solara.use_memo(launch_draws, [])
    scenario_name = solara.use_reactive(model_params(first)["scenario"]["value"])
    controls = solara.use_memo(lambda: model_params(scenario_name.value), [scenario_name.value])
    values = solara.use_reactive({k: controls[k]["value"] for k in LEVER_NAMES})
    seed_text = solara.use_reactive(controls["rng"]["value"])
    replicates = solara.use_reactive(ens.DEFAULT_REPLICATES)
    baseline = solara.use_reactive(None)
    version = solara.use_reactive(0)

    def build() -> PageModel:
        base = load_scenario(scenario_name.value)
        return PageModel(scenario_name.value, **model_kwargs(base, values.value),
                         rng=seed_text.value)

    runner = solara.use_memo(lambda: Runner(build, lambda m: not m.running), [])
    runner.build = build  # Reset builds from the controls' current values

    def choose_scenario(name: str) -> None:
        fresh = model_params(name)
        scenario_name.set(name)
        values.set({k: fresh[k]["value"] for k in LEVER_NAMES})

    key = (scenario_name.value, tuple(sorted(values.value.items())), replicates.value,
           _seed(seed_text.value), id(baseline.value))
    task = solara.lab.use_task(
        lambda: ensemble_update(scenario_name.value, values.value, replicates.value,
                                _seed(seed_text.value), baseline.value, draws),
        dependencies=[key], prefer_threaded=True,
    )
    last = solara.use_ref(None)
    if task.finished and task.value is not None:
        last.current = task.value
    view: EnsembleView | None = last.current

    solara.Title(TITLE)
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    with solara.Sidebar(), solara.Column(classes=["normsim-sidebar"]):
        with solara.Card("Single run"):
            model = runner.model
            RunButtons(runner, version,
                       f"Time: {model.time} · {model.year} (step {model.state.step} of "
                       f"{model.params.steps})")
        with solara.Card("Setting"):
            solara.Select("Scenario", value=scenario_name.value, on_value=choose_scenario,
                          values=controls["scenario"]["values"])
            for lever in LEVER_NAMES:
                _control(lever, controls[lever], values)
            solara.InputText(controls["rng"]["label"], value=seed_text)
            solara.HTML(tag="div", classes=["normsim-busy"], unsafe_innerHTML=(
                "The ensemble follows every change; the single run takes it at Reset."))
        with solara.Card("Ensemble"):
            LabelledSlider("Replicates R", replicates.value, replicates.set,
                           lo=REPLICATE_RANGE[0], hi=REPLICATE_RANGE[1], step=50,
                           integer=True, fmt="{:d}")
            with solara.Row():
                solara.Button("Pin as baseline", color="primary", outlined=True,
                              disabled=view is None,
                              on_click=lambda: baseline.set(view.stats if view else None))
                solara.Button("Clear", text=True, disabled=baseline.value is None,
                              on_click=lambda: baseline.set(None))

    version.value  # noqa: B018  (read, so a step redraws the single run)
    model = runner.model
    with solara.Div(classes=["normsim-grid"]):
        with solara.Div(classes=["normsim-card"]):
            solara.HTML(tag="h4", unsafe_innerHTML="Single run · the network")
            NetworkView(runner, version.value)
        with runner.lock:
            adoption, norms = png(adoption_figure(model)), png(norms_figure(model))
        Card("Single run · adoption", adoption)
        if view is not None:
            Card(f"Ensemble · {view.stats.n} runs · adopter share", view.fan)
        else:
            Card("Ensemble", text="running the ensemble…")
        with solara.Div(classes=["normsim-card"]):
            solara.HTML(tag="h4", unsafe_innerHTML="Ensemble · probabilities")
            EnsembleStats(view, baseline.value, task.pending)
        if view is not None:
            Card("Ensemble · tipping year and blockers", view.outcomes)
        Card("Single run · prior norms and support", norms)
        with solara.Div(classes=["normsim-card"]):
            solara.HTML(tag="h4", unsafe_innerHTML="Single run · status and event log")
            RunLog(model, version.value)


def _control(lever: str, spec: dict[str, Any], values: solara.Reactive[dict]) -> None:
    def on_value(value: Any) -> None:
        values.set({**values.value, lever: value})

    value = values.value.get(lever, spec["value"])
    if spec["type"] == "Select":
        solara.Select(spec["label"], value=value, values=spec["values"], on_value=on_value)
    else:
        LabelledSlider(spec["label"], value, on_value, lo=spec["min"], hi=spec["max"],
                       step=spec["step"], fmt="{:.2f}")


page = Page


def _ensemble_html(view: EnsembleView, baseline: ens.Ensemble | None, pending: bool) -> str:
    stats = view.stats
    end = stats.end_year
    rows = [
        f"<div style='color:#555'>{html.escape(stats.label)} · {stats.n} runs · "
        f"updated in {view.seconds:.2f} s{' · <i>updating…</i>' if pending else ''}</div>",
    ]
    if stats.posterior:
        rows.append(f"<div class='normsim-posterior' style='color:#6a3d9a'>"
                    f"{html.escape(stats.posterior[0].upper() + stats.posterior[1:])}; the "
                    "intervals are over the pooled runs, parameter uncertainty included</div>")
    rows += [
        "<table style='border-collapse:collapse;margin-top:4px'>"
        "<tr style='color:#555;text-align:left'><th></th><th style='padding:0 10px'>P "
        "[95% CI]</th>" + ("<th style='padding:0 10px'>baseline</th><th style='padding:0 10px'>"
                           "difference [95% CI]</th>" if baseline else "") + "</tr>",
    ]
    for name, mine, theirs in (
        (f"P(cascade by {end})", stats.cascade, baseline.cascade if baseline else None),
        (f"P(institutional adoption by {end})", stats.adoption,
         baseline.adoption if baseline else None),
    ):
        cell = "<td style='padding:2px 10px;white-space:nowrap'>"
        cells = (f"<td style='padding:2px 10px 2px 0'>{name}</td>"
                 f"{cell}<b style='font-size:15px'>{mine.text()}</b></td>")
        if theirs is not None:
            cells += (f"{cell}{theirs.text()}</td>"
                      f"{cell}<b>{ens.difference(mine, theirs).text()}</b></td>")
        rows.append(f"<tr>{cells}</tr>")
    rows.append("</table>")
    blockers = ", ".join(f"{c} {k / stats.n:.0%}" for c, k in stats.blockers[:5]) or "none"
    rows.append(f"<div style='margin-top:6px'>Most frequent blockers (last failed vote): "
                f"{html.escape(blockers)}</div>")
    tipped = [y for y, _ in stats.tipping_years]
    if tipped:
        peak = max(stats.tipping_years, key=lambda item: item[1])[0]
        rows.append(f"<div>Tipping years: {min(tipped)}–{max(tipped)}, most often {peak}</div>")
    if baseline is not None:
        rows.append(f"<div style='margin-top:6px;color:#555'>Baseline: "
                    f"{html.escape(baseline.label)} · {baseline.n} runs</div>")
    else:
        rows.append("<div style='margin-top:6px;color:#777'>Pin as baseline to compare "
                    "another setting with this one.</div>")
    rows.append("<div style='margin-top:6px;color:#777;font-size:11.5px'>Intervals: Wilson "
                "score (95%); the difference: Newcombe's hybrid score interval from the two "
                "Wilson intervals (independent samples; both settings share the master seed, "
                "so it errs wide).</div>")
    return "".join(rows)


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
    if getattr(model, "draw", None) is not None:
        lines.append(f"parameters: posterior draw {model.draw} (seed mod the draws)")
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
