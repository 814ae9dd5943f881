"""The Mesa model: the member states on a weighted network, events, summits, reporters.

The model's ``__init__`` is its parameter contract: a scenario name or file plus flat,
optional levers, so SolaraViz's Reset (``type(model)(**params)``) and batch runners can call
it. Scenario objects enter through :meth:`RegionModel.from_scenario`. Each step runs the one
update rule of :mod:`normsim.models.region.dynamics` on a single replicate and shows it on
the agents.
"""

from __future__ import annotations

from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network

from normsim.models.region.agents import MemberState
from normsim.models.region.dynamics import Params, Summit, Trajectory, advance, initial_state
from normsim.models.region.norms import RegionalStage, StateStage
from normsim.models.region.params import build_params
from normsim.models.region.schema import lever_overrides

if TYPE_CHECKING:
    from normsim.scenario import Scenario

DEFAULT_SCENARIO = "asean-2024"
SEED_BOUND = 2**63
"""A seed drawn for an unseeded run lies in ``[0, SEED_BOUND)``, as replicate seeds do."""


# Reporters are named module-level functions, or partials of them, never lambdas or
# closures, so models pickle.
def adopter_share(model: RegionModel) -> float:
    """Share of states holding the norm (adopters and internalized)."""
    return float(model.state.adopter_share()[0])


def regional_stage(model: RegionModel) -> str:
    """The region's life-cycle stage."""
    return RegionalStage(int(model.state.regional[0])).name.lower()


def mean_support(model: RegionModel) -> float:
    """Mean support for the proposed norm."""
    return float(model.state.support[:, 0].mean())


def institutional_adoption(model: RegionModel) -> bool:
    """Whether the region has adopted the proposed norm by its decision rule."""
    return bool(model.state.institution[0])


def stage_count(model: RegionModel, stage: StateStage) -> int:
    """Number of states in a life-cycle stage of their own."""
    return int((model.state.stage[:, 0] == stage).sum())


def mean_norm(model: RegionModel, j: int) -> float:
    """Mean strength of prior norm ``j`` (its position among the declared norms)."""
    return float(model.state.norms[j, :, 0].mean())


MODEL_REPORTERS: dict[str, Any] = {
    "adopter_share": adopter_share,
    "mean_support": mean_support,
    "regional_stage": regional_stage,
    "institutional_adoption": institutional_adoption,
    **{f"n_{s.name.lower()}": partial(stage_count, stage=s) for s in StateStage},
}
"""The model reporters every scenario has; each declared prior norm adds ``norm_<key>``."""
# Attribute getters rather than attribute names: Mesa wraps a name in a closure of its own.
AGENT_REPORTERS: dict[str, Any] = {
    "state": attrgetter("code"),
    "support": attrgetter("support"),
    "stage": attrgetter("stage_name"),
}


class RegionModel(mesa.Model):
    """A regional norm scenario as a Mesa model (one replicate); by default the ASEAN case.

    Args:
        scenario: a shipped scenario name (``asean-2024``), a path to a YAML file, or a
            :class:`~normsim.scenario.Scenario` (``kind: region``).
        framing: ``standard`` or ``localized`` (norm localization, Acharya 2004).
        entrepreneur_intensity: yearly persuasion effort of every entrepreneur.
        strategy: whom the entrepreneurs lobby (``all``, ``receptive``, ``central``,
            ``hardliners``, ``coalition``).
        tipping_share: share of adopters at which the region tips into cascade
            (Finnemore & Sikkink 1998: one-third).
        co_entrepreneur: code of a member that joins as co-entrepreneur, or "".
        crisis_year: year of a regional crisis (salience pulse), or None.
        un_push_year: year of a UN partnership push, or None.
        steps: number of years to run (default: to the scenario's end year).
        rng: the run's seed (an int; a numeric string from a text field is accepted).
            None draws a fresh seed from the operating system's entropy.

    Attributes:
        seed: the one integer seed of the run, given or drawn. It seeds Mesa's generators
            (``rng``, ``random``) and gives the dynamics their numbers
            (:class:`normsim.seeds.StepNormals`, the same as the batch engine draws for the
            seed), so ``RegionModel(..., rng=model.seed)`` replays the run.
        grid: the Mesa network space; its edge weights are the current ties, synced from
            the dynamics' ``state.ties`` after every step.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario = DEFAULT_SCENARIO,
        *,
        framing: str | None = None,
        entrepreneur_intensity: float | None = None,
        strategy: str | None = None,
        tipping_share: float | None = None,
        co_entrepreneur: str = "",
        crisis_year: int | None = None,
        un_push_year: int | None = None,
        steps: int | None = None,
        rng: int | str | None = None,
    ):
        if isinstance(rng, str):  # SolaraViz text fields send strings
            rng = int(rng.strip()) if rng.strip() else None
        if rng is None:  # one fresh seed, recorded, for Mesa's generators and the dynamics
            rng = int(np.random.default_rng().integers(SEED_BOUND))
        self.seed: int = int(rng)
        super().__init__(rng=self.seed)
        if isinstance(scenario, str | Path):
            # The one reach above the model layer, at call time: SolaraViz's Reset and
            # batch runners pass a scenario name, which only the scenario layer can load.
            from normsim.scenario import load_scenario

            scenario = load_scenario(scenario)
        base = scenario
        self.norm_scenario = base.with_overrides(lever_overrides(
            base, framing=framing, entrepreneur_intensity=entrepreneur_intensity,
            strategy=strategy, tipping_share=tipping_share, co_entrepreneur=co_entrepreneur,
            crisis_year=crisis_year, un_push_year=un_push_year,
        ))
        self.params: Params = build_params(self.norm_scenario, steps)
        # The replicate's seed: the same numbers as the batch engine draws for it.
        self.state = initial_state(self.params, [self.seed])
        self.trajectory = Trajectory(self.params.codes, self.params.start_year)
        self.trajectory.record(self.state)
        self.events: list[dict[str, Any]] = []

        graph = nx.Graph()
        graph.add_nodes_from(range(self.params.n_states))
        n = self.params.n_states
        graph.add_edges_from((i, j) for i in range(n) for j in range(i + 1, n))
        self.grid = Network(graph, random=self.random, layout=None)
        self._sync_ties()
        states = self.norm_scenario.data["states"]
        for i, code in enumerate(self.params.codes):
            MemberState(self, self.grid[i], code, states[code]["name"] or code, i)
        reporters = {**MODEL_REPORTERS, **{f"norm_{k}": partial(mean_norm, j=j)
                                           for j, k in enumerate(self.params.norm_keys)}}
        self.datacollector = mesa.DataCollector(reporters, AGENT_REPORTERS)
        self.datacollector.collect(self)

    @classmethod
    def from_scenario(cls, scenario: Scenario, rng: int | None = None,
                      steps: int | None = None) -> RegionModel:
        """Build a model from a loaded scenario, with its own levers."""
        return cls(scenario, steps=steps, rng=rng)

    # Mesa 3.5 keeps an experimental scenario object of its own in ``model.scenario``, and
    # SolaraViz's Reset passes it back as the ``scenario`` argument, replacing the chosen
    # scenario. Hiding it (always None) makes Reset pass the page's values unchanged.
    @property
    def scenario(self) -> None:
        """Mesa's experimental scenario object, hidden from SolaraViz (always None)."""
        return None

    @scenario.setter
    def scenario(self, value: Any) -> None:
        self._scenario = value

    @property
    def year(self) -> int:
        """The calendar year of the current step."""
        return self.params.year(self.state.step)

    def member(self, code: str) -> MemberState:
        """The agent of a member, by its code."""
        return next(a for a in self.agents if a.code == code)

    def step(self) -> None:
        """One year: the shared update rule, the network's ties, the event log, the reporters."""
        before_stage = self.state.stage.copy()
        before_regional = int(self.state.regional[0])
        advance(self.state, self.params)
        self._sync_ties()
        self.trajectory.record(self.state)
        self._log(before_stage[:, 0], before_regional)
        self.datacollector.collect(self)
        self.running = self.state.step < self.params.steps

    def _sync_ties(self) -> None:
        """Set the network's edge weights to the current ties, ``state.ties``.

        Events change the ties (cooperation thickens every one), so this runs after each
        step: the space then shows the ties the dynamics use.
        """
        ties = self.state.ties
        for i, j, data in self.grid.G.edges(data=True):
            data["weight"] = float(ties[i, j])

    def _log(self, before_stage: np.ndarray, before_regional: int) -> None:
        step, year = self.state.step, self.year
        for event in self.params.events.get(step, ()):
            who = f" by {self.params.codes[event.state]}" if event.state >= 0 else ""
            self.events.append({"step": step, "year": year, "kind": event.kind,
                                "text": f"{event.kind.replace('_', ' ')}{who}"})
        for i, (old, new) in enumerate(zip(before_stage, self.state.stage[:, 0], strict=True)):
            if old != new:
                self.events.append({
                    "step": step, "year": year, "kind": "stage",
                    "text": f"{self.params.codes[i]}: {StateStage(old).name.lower()} → "
                            f"{StateStage(new).name.lower()}",
                })
        if int(self.state.regional[0]) != before_regional:
            self.events.append({"step": step, "year": year, "kind": "region",
                                "text": f"region enters {regional_stage(self)}"})
        if self.state.tabled[0]:
            blockers = [self.params.codes[i] for i in np.flatnonzero(self.state.blockers[:, 0])]
            by = f" by {', '.join(blockers)}" if blockers else ""
            rule = self.norm_scenario.data["region"]["decision"]["rule"].replace("_", " ")
            outcome = Summit(int(self.state.summit[0]))
            version = self.params.version_keys[int(self.state.institution_version[0])]
            put = int(self.state.version_tabled[0])
            lesser = f"{self.params.version_keys[put]} tabled, the more ambitious versions " \
                f"taken off the table (foreseen objections{by}); " if put > 0 else ""
            if outcome is Summit.WITHDRAWN:
                text = f"proposal withdrawn before the summit (foreseen objections{by})"
            elif outcome is Summit.ADOPTED and self.state.institution[0]:
                text = f"summit adopts the proposal ({rule})"
            elif outcome is Summit.ADOPTED and put > 0:
                text = f"{lesser}summit adopts the lesser version {version} ({rule})"
            elif outcome is Summit.ADOPTED:
                text = f"summit adopts the lesser version {version} ({rule}); the rest blocked{by}"
            elif put > 0:
                text = f"{lesser}summit: no version passes"
            else:
                text = f"summit: blocked{by}" if blockers else "summit: too few members in favour"
            self.events.append({"step": step, "year": year, "kind": "summit", "text": text})

