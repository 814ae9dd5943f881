"""The generic threshold-diffusion model on any network (``kind: threshold``).

Granovetter (1978), Watts (2002) and Centola & Macy (2007): the rule is in
:mod:`normsim.models.threshold.dynamics`, the graphs in
:mod:`normsim.models.threshold.networks`. Each replicate draws its own graph, thresholds
and initial adopters from its seed, and runs one at a time on the batch engine.
:data:`KIND` is the model kind; it has no levers and no Mesa model; its browser page is
:mod:`normsim.viz.threshold`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm.auto import tqdm

from normsim.models.threshold import schema
from normsim.models.threshold.dynamics import ThresholdRun, run_replicate
from normsim.models.threshold.tables import COLUMNS, summarize, threshold_tables

if TYPE_CHECKING:
    from normsim.models.kind import Tables
    from normsim.results import Results
    from normsim.scenario import Scenario
    from normsim.schema import Spec, _Context


def run_threshold(scenario: Scenario, seeds: list[int], *,
                  progress: bool = False) -> list[ThresholdRun]:
    """Run one replicate of a threshold scenario per seed.

    Each replicate draws its own graph, thresholds and initial adopters from its seed; a
    relative edge-list path is read from the scenario file's folder.
    """
    base_dir = Path(scenario.source).parent
    return [run_replicate(scenario.data, seed, base_dir)
            for seed in tqdm(seeds, disable=not progress, unit="run", desc="threshold")]


class ThresholdKind:
    """The threshold model as a model kind (see :class:`~normsim.models.kind.ModelKind`)."""

    name = "threshold"
    schema = schema.THRESHOLD
    engines: tuple[str, ...] = ("batch",)
    columns = COLUMNS
    page: str | None = "normsim.viz.threshold"
    mesa_model: type | None = None

    def check(self, data: dict[str, Any], ctx: _Context) -> None:
        """The engine's checks of network, thresholds and initial adopters; memory."""
        schema.check(data, ctx)

    def horizon(self, data: dict[str, Any]) -> int:
        """The step limit (a run stops earlier at a fixed point)."""
        return data["steps"]

    def with_steps(self, data: dict[str, Any], steps: int) -> dict[str, Any]:
        """``steps = steps``: the step limit."""
        return {"steps": steps}

    def describe(self, data: dict[str, Any]) -> str:
        """The number of nodes."""
        return f"threshold model, n = {data['network']['n']}"

    def facts(self, data: dict[str, Any]) -> dict[str, Any]:
        """The step limit and the cascade share."""
        return {"steps": data["steps"], "tipping_share": data["tipping_share"]}

    def simulate(self, scenario: Scenario, seeds: list[int], *, engine: str = "batch",
                 agents: bool = True, progress: bool = False) -> list[ThresholdRun]:
        """One :class:`ThresholdRun` per seed (:func:`run_threshold`)."""
        if engine not in self.engines:
            raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(self.engines)}")
        return run_threshold(scenario, seeds, progress=progress)

    def tables(self, scenario: Scenario, raw: list[ThresholdRun], seeds: list[int],
               run_ids: list[int], replicates: list[int], agents: bool) -> Tables:
        """Runs and steps tables; the agents table only if the scenario records agents."""
        data = scenario.data
        return threshold_tables(raw, seeds, run_ids, data["tipping_share"],
                                agents and data["record_agents"], replicates)

    def summarize(self, results: Results) -> str:
        """P(cascade) and the percentiles of final size and timing."""
        return summarize(results)

    def levers(self, scenario: Scenario | None) -> dict[str, str]:
        """None yet: a sweep varies a threshold scenario's keys."""
        return {}

    def lever_overrides(self, scenario: Scenario, **levers: Any) -> dict[str, Any]:
        """No levers: nothing to override (a lever given is an error)."""
        given = [name for name, value in levers.items() if value is not None]
        if given:
            raise ValueError(f"the threshold kind has no levers; got {', '.join(given)}")
        return {}

    def lever_spec(self, scenario: Scenario | None, lever: str) -> Spec | None:
        """No levers."""
        return None


KIND = ThresholdKind()
"""The threshold model kind; scenario files say ``kind: threshold``."""
