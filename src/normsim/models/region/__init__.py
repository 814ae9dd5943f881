"""The regional norm model: members, prior norms, the life cycle, summits (``kind: region``).

A region is data: its members, the prior norms the proposed norm meets and its decision
rule are in the scenario file (the ASEAN files are the calibrated case). Engines: ``batch``
advances many replicates at once on arrays
(:func:`normsim.models.region.dynamics.simulate`); ``mesa`` builds one
:class:`~normsim.models.region.model.RegionModel` per replicate. Both run the same update
rule, so the same seeds give identical tables. :data:`KIND` is the model kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from normsim.models.region import schema
from normsim.models.region.dynamics import simulate as simulate_batch
from normsim.models.region.params import build_params, version_keys
from normsim.models.region.statistics import Runs, values
from normsim.models.region.tables import COLUMNS, summarize, tables
from normsim.seeds import BLOCK

if TYPE_CHECKING:
    from normsim.models.kind import Tables
    from normsim.results import Results
    from normsim.scenario import Scenario
    from normsim.schema import Spec, _Context

ENGINES: tuple[str, ...] = ("batch", "mesa")
CHUNK = 2 * BLOCK  # replicates per batch: bounds memory, keeps the progress bar moving;
# whole blocks of seeds, so that a chunk draws no numbers of another chunk's runs


def _chunks(seeds: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(seeds), size):
        yield seeds[start : start + size]


def run_trajectories(
    scenario: Scenario,
    seeds: list[int],
    *,
    engine: str = "batch",
    steps: int | None = None,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Run one replicate per seed and stack their trajectories, replicate axis first."""
    params = build_params(scenario, steps)
    parts: list[dict[str, np.ndarray]] = []
    with tqdm(total=len(seeds), disable=not progress, unit="run", desc=engine) as bar:
        if engine == "batch":
            for chunk in _chunks(seeds, CHUNK):
                parts.append(simulate_batch(params, chunk).arrays())
                bar.update(len(chunk))
        elif engine == "mesa":
            from normsim.models.region.model import RegionModel  # Mesa only when asked for

            for seed in seeds:
                model = RegionModel.from_scenario(scenario, rng=seed, steps=steps)
                model.run_for(params.steps)
                parts.append(model.trajectory.arrays())
                bar.update(1)
        else:
            raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


class RegionKind:
    """The regional norm model as a model kind (see :class:`~normsim.models.kind.ModelKind`)."""

    name = "region"
    schema = schema.REGION
    engines = ENGINES
    columns = COLUMNS
    page: str | None = "normsim.viz.app"

    @property
    def mesa_model(self) -> type:
        """:class:`~normsim.models.region.model.RegionModel` (imports Mesa)."""
        from normsim.models.region.model import RegionModel

        return RegionModel

    def check(self, data: dict[str, Any], ctx: _Context) -> None:
        """Checks across keys: years in order, a state that can tip, the decision rule."""
        schema.check(data, ctx)

    def horizon(self, data: dict[str, Any]) -> int:
        """Years simulated: ``end_year - start_year``."""
        return data["end_year"] - data["start_year"]

    def with_steps(self, data: dict[str, Any], steps: int) -> dict[str, Any]:
        """``end_year = start_year + steps``."""
        return {"end_year": data["start_year"] + steps}

    def describe(self, data: dict[str, Any]) -> str:
        """The number of states and the years."""
        return f"{len(data['states'])} states, {data['start_year']}–{data['end_year']}"

    def facts(self, data: dict[str, Any]) -> dict[str, Any]:
        """The first and last year and the tipping share."""
        return {"start_year": data["start_year"], "end_year": data["end_year"],
                "tipping_share": data["region"]["tipping_share"]}

    def simulate(self, scenario: Scenario, seeds: list[int], *, engine: str = "batch",
                 agents: bool = True, progress: bool = False) -> dict[str, np.ndarray]:
        """The stacked trajectories of one replicate per seed (:func:`run_trajectories`)."""
        return run_trajectories(scenario, seeds, engine=engine, progress=progress)

    def tables(self, scenario: Scenario, raw: dict[str, np.ndarray], seeds: list[int],
               run_ids: list[int], replicates: list[int], agents: bool) -> Tables:
        """Runs, steps and (with ``agents``) per-state tables of the trajectories."""
        return tables(raw, scenario.codes, scenario.data["start_year"], seeds, run_ids,
                      replicates, agents, norm_keys=tuple(scenario.data["norms"]),
                      version_keys=version_keys(scenario.data))

    def statistics(self, scenario: Scenario, raw: dict[str, np.ndarray],
                   statistics: list[dict[str, Any]]) -> list[np.ndarray]:
        """Pattern statistics (:mod:`normsim.analysis.patterns`) from the trajectories.

        No table is built (:mod:`normsim.models.region.statistics`): per statistic, (R,)
        1.0 (true), 0.0 (false) or NaN (no value), the values the tables give.
        """
        runs = Runs(raw, scenario.codes, scenario.data["start_year"],
                    version_keys(scenario.data))
        return [values(stat, runs) for stat in statistics]

    def summarize(self, results: Results) -> str:
        """Cascade and adoption probabilities, blockers and the adoption order."""
        return summarize(results)

    def levers(self, scenario: Scenario | None) -> dict[str, str]:
        """:data:`~normsim.models.region.schema.LEVERS`."""
        return schema.LEVERS

    def lever_overrides(self, scenario: Scenario, **levers: Any) -> dict[str, Any]:
        """:func:`~normsim.models.region.schema.lever_overrides`."""
        return schema.lever_overrides(scenario, **levers)

    def lever_spec(self, scenario: Scenario | None, lever: str) -> Spec | None:
        """:func:`~normsim.models.region.schema.lever_spec`."""
        return schema.lever_spec(scenario, lever)


KIND = RegionKind()
"""The regional model kind; scenario files say ``kind: region`` (the default)."""
