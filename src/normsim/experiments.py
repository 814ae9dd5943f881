"""Replicates of a scenario: seeds, engines and the result tables.

Seeds: ``SeedSequence(master).spawn(n)`` gives each replicate its own stream, derived in
advance, so a replicate's result depends only on the master seed and its index, never on
the engine, the batch size or the order of execution. The integer seed of every run is
written into its rows; ``np.random.default_rng(seed)`` replays it.

Engines: ``batch`` advances many replicates at once on arrays; ``mesa`` builds one
:class:`~normsim.model.AseanModel` per replicate. Both run the same update rule. Threshold
scenarios (:mod:`normsim.threshold`) run one replicate at a time, each on its own graph.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm.auto import tqdm

from normsim.dynamics import simulate
from normsim.results import Results, make_metadata, tables, threshold_tables
from normsim.scenario import Scenario, build_params
from normsim.threshold import ThresholdRun, run_replicate

Engine = Literal["batch", "mesa"]
ENGINES: tuple[Engine, ...] = ("batch", "mesa")
CHUNK = 2000  # replicates per batch: bounds memory, keeps the progress bar moving


def replicate_seeds(master: int, replicates: int) -> list[int]:
    """One non-negative 63-bit integer seed per replicate, from the master seed."""
    children = np.random.SeedSequence(master).spawn(replicates)
    return [int(child.generate_state(1, np.uint64)[0] >> np.uint64(1)) for child in children]


def _chunks(seeds: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(seeds), size):
        yield seeds[start : start + size]


def run_trajectories(
    scenario: Scenario,
    seeds: list[int],
    *,
    engine: Engine = "batch",
    steps: int | None = None,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Run one replicate per seed and stack their trajectories, replicate axis first."""
    params = build_params(scenario, steps)
    parts: list[dict[str, np.ndarray]] = []
    with tqdm(total=len(seeds), disable=not progress, unit="run", desc=engine) as bar:
        if engine == "batch":
            for chunk in _chunks(seeds, CHUNK):
                generators = [np.random.default_rng(s) for s in chunk]
                parts.append(simulate(params, generators).arrays())
                bar.update(len(chunk))
        elif engine == "mesa":
            from normsim.model import AseanModel  # the Mesa layer only when asked for

            for seed in seeds:
                model = AseanModel.from_scenario(scenario, rng=seed, steps=steps)
                model.run_for(params.steps)
                parts.append(model.trajectory.arrays())
                bar.update(1)
        else:
            raise ValueError(f"unknown engine {engine!r}; allowed: {', '.join(ENGINES)}")
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def run_threshold(scenario: Scenario, seeds: list[int], *, steps: int | None = None,
                  progress: bool = False) -> list[ThresholdRun]:
    """Run one replicate of a threshold scenario per seed.

    Each replicate draws its own graph, thresholds and initial adopters from its seed.
    """
    data = scenario.data if steps is None else {**scenario.data, "steps": steps}
    base_dir = Path(scenario.source).parent
    return [run_replicate(data, seed, base_dir)
            for seed in tqdm(seeds, disable=not progress, unit="run", desc="threshold")]


def run_scenario(
    scenario: Scenario,
    replicates: int = 100,
    seed: int = 0,
    *,
    engine: Engine = "batch",
    steps: int | None = None,
    agents: bool = True,
    progress: bool = False,
) -> Results:
    """Run ``replicates`` replicates of a scenario and build the result tables.

    ASEAN scenarios run on either engine; threshold scenarios on the batch engine only,
    and write the per-agent table only when the scenario asks for it (``record_agents``).
    ``steps`` is applied with :meth:`Scenario.with_steps`: held to the schema's limits, and
    the metadata's resolved scenario says what ran.
    """
    if steps is not None:
        scenario, steps = scenario.with_steps(steps), None
    seeds = replicate_seeds(seed, replicates)
    indices = list(range(replicates))
    if scenario.kind == "threshold":
        if engine != "batch":
            raise ValueError("threshold scenarios run on the batch engine only")
        runs = run_threshold(scenario, seeds, steps=steps, progress=progress)
        tables_ = threshold_tables(runs, seeds, indices, scenario.data["tipping_share"],
                                   agents and scenario.data["record_agents"])
        horizon = scenario.steps if steps is None else steps
        return Results(*tables_, make_metadata(scenario, seed, replicates, engine, horizon))
    arrays = run_trajectories(scenario, seeds, engine=engine, steps=steps, progress=progress)
    horizon = arrays["stage"].shape[1] - 1
    runs, step_table, agent_table = tables(
        arrays, scenario.codes, scenario.data["start_year"], seeds, indices, indices, agents
    )
    meta = make_metadata(scenario, seed, replicates, engine, horizon)
    return Results(runs, step_table, agent_table, meta)
