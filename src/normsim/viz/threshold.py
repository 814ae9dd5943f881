"""The browser page of the threshold model (``normsim viz threshold/watts-2002``).

A plain Solara page that steps the engine, :class:`~normsim.models.threshold.dynamics.
ThresholdDynamics`, rather than a Mesa model: the kind has no Mesa model, and one Mesa agent
per node would copy the engine's state for thousands of nodes and step them about 200 times
slower (docs: ``mesa-guide`` §3), while the page only needs the engine's ``step`` and its
adoption steps. The single run draws its graph, thresholds and initial adopters from the
seed in the order :func:`~normsim.models.threshold.dynamics.run_replicate` does, so it is
replicate 0 of the setting's runs on the batch engine when the seed is that replicate's.

The controls set the generator, n, the mean degree (and the rewiring probability of a
Watts–Strogatz graph), the threshold and the number of seed nodes as overrides of the
scenario; a setting the scenario schema refuses is noted and the scenario runs as written.
The ensemble is R replicates on the batch engine: the distribution of cascade sizes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import solara

from normsim.experiments.replicates import run_scenario
from normsim.models.threshold.dynamics import (
    ThresholdDynamics,
    draw_initial_adopters,
    draw_thresholds,
)
from normsim.models.threshold.networks import GENERATORS, build_network
from normsim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    resolve_path,
    shipped_names,
)
from normsim.viz import ensemble as ens
from normsim.viz.figures import png
from normsim.viz.shell import CSS, Card, LabelledSlider, RunButtons, Runner
from normsim.viz.threshold_figures import cascade_figure, layout, network_figure, sizes_figure

TITLE = "normsim · threshold model"
DEFAULT_SCENARIO = "threshold/watts-2002"
SCENARIO_ENV = "NORMSIM_SCENARIO"
PAGE_N = 2000
"""The page's n when the scenario's is larger: the network stays drawable and quick."""
N_RANGE = (50, 5000)
DEGREE_RANGE = (1.0, 16.0)
SEEDS_RANGE = (1, 50)
AS_SCENARIO = "as in scenario"
DEFAULT_REPLICATES = 100
"""Replicates of the ensemble: each draws its own graph (about 25 ms at n = 2,000), so fewer
than the region page's 500; the update runs in a thread and never blocks the controls."""


def threshold_names() -> list[str]:
    """The shipped threshold scenarios."""
    names = []
    for name in shipped_names():
        try:
            if load_scenario(name).kind == "threshold":
                names.append(name)
        except ScenarioError:
            continue
    return names


def launch_scenario() -> str:
    """The scenario the page opens with: ``$NORMSIM_SCENARIO`` if a threshold one.

    ``normsim viz`` passes a shipped scenario in a subfolder as its file's path; it is
    named as the scenario menu names it.
    """
    name = os.environ.get(SCENARIO_ENV, "").strip()
    try:
        if not name or load_scenario(name).kind != "threshold":
            return DEFAULT_SCENARIO
    except ScenarioError:
        return DEFAULT_SCENARIO
    path = resolve_path(name).resolve()
    return next((n for n in threshold_names() if resolve_path(n).resolve() == path), name)


def settings(scenario: Scenario) -> dict[str, Any]:
    """The controls' starting values: the scenario's own (n capped at :data:`PAGE_N`)."""
    data = scenario.data
    net = data["network"]
    absolute = data.get("absolute_threshold") is not None
    spec = data["absolute_threshold" if absolute else "threshold"]
    n = int(net["n"])
    mean_degree = net.get("mean_degree")
    if mean_degree is None:
        mean_degree = {"erdos_renyi": (net.get("p") or 0) * (n - 1),
                       "barabasi_albert": 2 * (net.get("m") or 1)}.get(
            net.get("generator"), net.get("k") or n - 1)
    initial = data["initial_adopters"]
    return {
        "generator": net.get("generator", AS_SCENARIO),
        "n": min(n, PAGE_N),
        "mean_degree": float(min(max(mean_degree, DEGREE_RANGE[0]), DEGREE_RANGE[1])),
        "rewiring": float(net.get("p") or 0.1) if net.get("generator") == "watts_strogatz"
        else 0.1,
        "threshold": float(spec["value"]) if spec["distribution"] == "constant"
        else AS_SCENARIO,
        "absolute": absolute,
        "seeds": int(initial["random"]) if initial.get("random") is not None else AS_SCENARIO,
    }


def overrides(scenario: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """The scenario overrides of the controls' values; unchanged values give none."""
    own = settings(scenario)
    data = scenario.data
    out: dict[str, Any] = {}
    net_keys = ("generator", "n", "mean_degree", "rewiring")
    if any(values.get(k) != own[k] for k in net_keys) or data["network"]["n"] != own["n"]:
        generator = values["generator"]
        network: dict[str, Any] = {"generator": generator, "n": int(values["n"])}
        z = float(values["mean_degree"])
        if generator in ("ring_lattice", "watts_strogatz", "barabasi_albert"):
            network["mean_degree"] = max(2, 2 * round(z / 2))
        elif generator == "erdos_renyi":
            network["mean_degree"] = z
        if generator == "watts_strogatz":
            network["p"] = float(values["rewiring"])
        out["network"] = network
    if values.get("threshold") not in (AS_SCENARIO, None) and values["threshold"] != own[
            "threshold"]:
        key = "absolute_threshold" if own["absolute"] else "threshold"
        out[key] = {"distribution": "constant", "value": float(values["threshold"])}
    if values.get("seeds") not in (AS_SCENARIO, None) and values["seeds"] != own["seeds"]:
        out["initial_adopters"] = {"random": int(values["seeds"])}
    return out


def chosen_scenario(name: str, values: dict[str, Any], notes: list[str]) -> Scenario:
    """The scenario with the controls applied; refused values are noted, the file runs."""
    base = load_scenario(name)
    try:
        return base.with_overrides(overrides(base, values))
    except ScenarioError as err:
        notes.append(f"setting refused, scenario run as written: {err.problems[0].message}")
        return base


class ThresholdRun:
    """One run of the threshold model, stepped by the page.

    Draws, from ``numpy.random.default_rng(seed)``, the graph, the thresholds and the
    initial adopters in :func:`~normsim.models.threshold.dynamics.run_replicate`'s order.

    Args:
        scenario: the scenario (controls applied).
        seed: the run's seed.
    """

    def __init__(self, scenario: Scenario, seed: int):
        data = scenario.data
        rng = np.random.default_rng(seed)
        self.adjacency = build_network(data["network"], rng,
                                       base_dir=Path(scenario.source).parent)
        n = self.adjacency.shape[0]
        absolute = data.get("absolute_threshold") is not None
        spec = data["absolute_threshold" if absolute else "threshold"]
        thresholds = draw_thresholds(spec, n, rng)
        initial = draw_initial_adopters(data["initial_adopters"], n, rng)
        self.dynamics = ThresholdDynamics(self.adjacency, thresholds, initial,
                                          absolute=absolute, validate=False)
        self.limit = int(data["steps"])
        self.tipping_share = float(data["tipping_share"])
        self.shares = [self.dynamics.n_adopted / n]
        self.positions = layout(self.adjacency, seed=0)
        self.fixed = False
        self.scenario_name = scenario.name

    def step(self) -> None:
        """One synchronous step; a step without adoptions marks the fixed point."""
        new = self.dynamics.step()
        self.fixed = new == 0
        if not self.fixed:
            self.shares.append(self.dynamics.n_adopted / self.dynamics.n)

    @property
    def done(self) -> bool:
        """At the fixed point or the step limit."""
        return self.fixed or self.dynamics.t >= self.limit


@dataclass(frozen=True)
class SizesView:
    """One ensemble update of the threshold page."""

    stats: ens.CascadeSizes
    figure: bytes
    seconds: float


def sizes_update(name: str, values: dict[str, Any], replicates: int, seed: int) -> SizesView:
    """R replicates of the setting on the batch engine and their cascade sizes."""
    started = time.perf_counter()
    scenario = chosen_scenario(name, values, [])
    results = run_scenario(scenario, replicates, seed, agents=False)
    stats = ens.cascade_sizes(results.runs, tipping_share=scenario.data["tipping_share"],
                              label=scenario.name)
    figure = png(sizes_figure(stats.sizes, stats.tipping_share, stats.cascade.text()))
    return SizesView(stats, figure, time.perf_counter() - started)


def _seed(text: str) -> int:
    text = str(text).strip()
    return int(text) if text.isascii() and text.isdigit() else 0


@solara.component
def Page() -> None:
    """The threshold page: the network by step of adoption, the cascade curve, the sizes."""
    first = solara.use_memo(launch_scenario, [])
    names = solara.use_memo(lambda: sorted({*threshold_names(), first}), [])
    scenario_name = solara.use_reactive(first)
    base = solara.use_memo(lambda: load_scenario(scenario_name.value), [scenario_name.value])
    values = solara.use_reactive(settings(base))
    seed_text = solara.use_reactive("0")
    replicates = solara.use_reactive(DEFAULT_REPLICATES)
    version = solara.use_reactive(0)
    notes = solara.use_reactive([])

    def build() -> ThresholdRun:
        found: list[str] = []
        run = ThresholdRun(chosen_scenario(scenario_name.value, values.value, found),
                           _seed(seed_text.value))
        notes.set(found)
        return run

    runner = solara.use_memo(lambda: Runner(build, lambda r: r.done), [])
    runner.build = build

    key = (scenario_name.value, tuple(sorted(values.value.items())), replicates.value,
           _seed(seed_text.value))
    task = solara.lab.use_task(
        lambda: sizes_update(scenario_name.value, values.value, replicates.value,
                             _seed(seed_text.value)),
        dependencies=[key], prefer_threaded=True,
    )
    last = solara.use_ref(None)
    if task.finished and task.value is not None:
        last.current = task.value
    view: SizesView | None = last.current

    def set_value(name: str, value: Any) -> None:
        values.set({**values.value, name: value})

    def choose(name: str) -> None:
        scenario_name.set(name)
        values.set(settings(load_scenario(name)))

    solara.Title(TITLE)
    solara.Style(CSS)
    with solara.AppBar():
        solara.AppBarTitle(TITLE)
    run = runner.model
    with solara.Sidebar(), solara.Column(classes=["normsim-sidebar"]):
        with solara.Card("Single run"):
            RunButtons(runner, version, f"Step {run.dynamics.t} · "
                       f"{run.dynamics.n_adopted:,} of {run.dynamics.n:,} adopted"
                       f"{' · fixed point' if run.fixed else ''}")
        with solara.Card("Setting"):
            solara.Select("Scenario", value=scenario_name.value, values=names, on_value=choose)
            v = values.value
            solara.Select("Generator", value=v["generator"], values=list(GENERATORS),
                          on_value=lambda x: set_value("generator", x))
            LabelledSlider("Nodes n", v["n"], lambda x: set_value("n", int(x)), lo=N_RANGE[0],
                           hi=N_RANGE[1], step=50, integer=True, fmt="{:,}")
            if v["generator"] != "complete":
                LabelledSlider("Mean degree z", v["mean_degree"],
                               lambda x: set_value("mean_degree", x), lo=DEGREE_RANGE[0],
                               hi=DEGREE_RANGE[1], step=0.5, fmt="{:.1f}")
            if v["generator"] == "watts_strogatz":
                LabelledSlider("Rewiring p", v["rewiring"], lambda x: set_value("rewiring", x),
                               lo=0.0, hi=1.0, step=0.01, fmt="{:.2f}")
            if v["threshold"] == AS_SCENARIO:
                solara.HTML(tag="div", classes=["normsim-value"], unsafe_innerHTML=(
                    "Threshold: <b>as in scenario</b> (one per node)"))
                solara.Button("Use one threshold for all", text=True, small=True,
                              on_click=lambda: set_value("threshold", 0.18 if not v[
                                  "absolute"] else 1.0))
            elif v["absolute"]:
                LabelledSlider("Threshold (adopting neighbours)", v["threshold"],
                               lambda x: set_value("threshold", float(x)), lo=0, hi=10, step=1,
                               integer=True, fmt="{:g}")
            else:
                LabelledSlider("Threshold φ (share of neighbours)", v["threshold"],
                               lambda x: set_value("threshold", x), lo=0.0, hi=1.0, step=0.01,
                               fmt="{:.2f}")
            if v["seeds"] == AS_SCENARIO:
                solara.HTML(tag="div", classes=["normsim-value"], unsafe_innerHTML=(
                    "Seed nodes: <b>as in scenario</b>"))
            else:
                LabelledSlider("Seed nodes (initial adopters)", v["seeds"],
                               lambda x: set_value("seeds", int(x)), lo=SEEDS_RANGE[0],
                               hi=SEEDS_RANGE[1], step=1, integer=True, fmt="{:d}")
            solara.InputText("Seed (whole number, Enter)", value=seed_text)
            solara.HTML(tag="div", classes=["normsim-busy"], unsafe_innerHTML=(
                "The ensemble follows every change; the single run takes it at Reset."))
        with solara.Card("Ensemble"):
            LabelledSlider("Replicates R", replicates.value, replicates.set, lo=20, hi=1000,
                           step=20, integer=True, fmt="{:d}")

    version.value  # noqa: B018  (read, so a step redraws the run)
    with runner.lock:
        net = png(network_figure(run.adjacency, run.positions, np.asarray(
            run.dynamics.adoption_step), run.dynamics.t))
        curve = png(cascade_figure(run.shares, run.tipping_share))
    with solara.Div(classes=["normsim-grid"]):
        Card(f"Single run · {run.scenario_name} · the network", net)
        Card("Single run · cascade curve", curve)
        if view is not None:
            busy = " · <i>updating…</i>" if task.pending else ""
            Card(f"Ensemble · cascade sizes · {view.stats.n} runs · updated in "
                 f"{view.seconds:.2f} s{busy}", view.figure)
        else:
            Card("Ensemble", text="running the ensemble…")
        with solara.Div(classes=["normsim-card"]):
            solara.HTML(tag="h4", unsafe_innerHTML="Notes")
            for note in notes.value:
                solara.Warning(note, dense=True, text=True, outlined=False)
            if view is not None:
                s = view.stats
                solara.HTML(tag="div", style="font-size:13px;line-height:1.5", unsafe_innerHTML=(
                    f"P(cascade ≥ {s.tipping_share:.2f} of the nodes): <b>{s.cascade.text()}</b> "
                    f"(Wilson 95%) · median size {np.median(s.sizes):.1%} · each run its own "
                    "graph, thresholds and seed nodes."))


page = Page
