"""Replicates of a scenario: seeds, the kind's engine and the result tables.

Seeds: :func:`normsim.seeds.replicate_seeds` gives each replicate its own integer seed,
derived in advance (in blocks of 1024 runs), so a replicate's result depends only on the
master seed and its index, never on the engine, the batch size or the order of execution.
The integer seed of every run is written into its rows; ``kind.simulate(scenario, [seed])``
replays it alone (:mod:`normsim.seeds` says what a seed stands for in each kind).

The scenario's model kind (:func:`normsim.models.get_kind`) runs the replicates and builds
the tables: the ASEAN kind on the ``batch`` engine (many replicates at once on arrays) or
the ``mesa`` engine (one Mesa model per replicate), the threshold kind one replicate at a
time, each on its own graph.
"""

from __future__ import annotations

from normsim.models import get_kind
from normsim.results import Results, make_metadata
from normsim.scenario import Scenario
from normsim.seeds import replicate_seeds


def run_scenario(
    scenario: Scenario,
    replicates: int = 100,
    seed: int = 0,
    *,
    engine: str = "batch",
    steps: int | None = None,
    agents: bool = True,
    progress: bool = False,
) -> Results:
    """Run ``replicates`` replicates of a scenario and build the result tables.

    ``engine`` must be one of the kind's engines (``kind.engines``); the agents table is
    written when ``agents`` is set and the kind records agents (a threshold scenario only
    with ``record_agents``). ``steps`` is applied with :meth:`Scenario.with_steps`: held to
    the schema's limits, and the metadata's resolved scenario says what ran.

    Raises:
        ValueError: the kind does not run on ``engine``.
    """
    if steps is not None:
        scenario = scenario.with_steps(steps)
    kind = get_kind(scenario.kind)
    if engine not in kind.engines:
        raise ValueError(f"{kind.name} scenarios run on the {' or '.join(kind.engines)} "
                         "engine only")
    seeds = replicate_seeds(seed, replicates)
    indices = list(range(replicates))
    raw = kind.simulate(scenario, seeds, engine=engine, agents=agents, progress=progress)
    runs, step_table, agent_table = kind.tables(scenario, raw, seeds, indices, indices, agents)
    meta = make_metadata(scenario, seed, replicates, engine, scenario.steps)
    return Results(runs, step_table, agent_table, meta)
