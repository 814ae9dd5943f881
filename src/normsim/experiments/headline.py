"""The data of the headline figures (``normsim figures``): runs under a posterior.

Two experiments, both over the same posterior draws
(:class:`~normsim.experiments.posterior.Draws`):

- **the fan chart**: a scenario (asean-2024) run under the posterior
  (:func:`~normsim.experiments.posterior.run_posterior`, ``replicates / D`` runs per draw);
- **the levers**: the levers of a sweep file (asean-levers) moved **one at a time** from
  the base scenario as written (its *baseline*), each setting crossed with the sweep's
  uncertainties (the crisis scenarios), every point's replicates spread over the draws.
  Each lever is a sweep of its own (the file's sweep with that lever alone in its lever
  block, the baseline value left out), and the baseline is one more (no lever moved), all
  run by :func:`~normsim.experiments.store.run_sweep` (local processes, serial equals
  parallel). A lever's value is its baseline when applying it leaves the base scenario
  unchanged (``null`` for a lever left off, the scenario's own framing, strategy or
  intensity); the baseline's runs stand for that value in the lever's table.

:func:`lever_runs` returns one table of runs with ``lever``, ``value`` and ``baseline``,
which :func:`normsim.analysis.posterior.lever_table` summarises. Nothing here draws.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from normsim.experiments.designs import Design
from normsim.experiments.posterior import Draws, run_posterior
from normsim.experiments.sweepfile import Block, Parameter, Sweep, build_point
from normsim.results import Results
from normsim.scenario import Scenario

OUTCOMES = ("cascade_reached", "institutional_adoption")
"""The outcome columns the lever table keeps."""


def fan_runs(scenario: Scenario, draws: Draws, replicates: int, seed: int,
             progress: bool = False) -> Results:
    """The scenario under the posterior: ``max(1, replicates // D)`` runs of each draw."""
    return run_posterior(scenario, draws, max(1, replicates // len(draws)), seed,
                         agents=False, progress=progress)


def value_label(value: Any) -> str:
    """A lever's value as the tables and figures show it (``none`` for a lever left off)."""
    if value is None:
        return "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class LeverSetting:
    """One lever of the sweep: its values, in the file's order, and which is the baseline."""

    parameter: Parameter
    values: tuple[Any, ...]
    baseline: int | None  # index into values, or None when no value leaves the base as is

    def moved(self) -> Parameter:
        """The lever with its baseline value left out (what its own sweep runs)."""
        rest = tuple(v for i, v in enumerate(self.values) if i != self.baseline)
        return replace(self.parameter, values=rest)


def lever_settings(sweep: Sweep) -> list[LeverSetting]:
    """The sweep's levers, each value checked for being the base scenario as written.

    Raises:
        ValueError: a lever is a range, not a list of values (one-at-a-time needs values).
    """
    out = []
    for p in sweep.levers.parameters:
        if p.values is None:
            raise ValueError(f"lever {p.name} is a range; the lever chart needs values")
        same = [i for i, v in enumerate(p.values)
                if build_point(sweep.base, (p,), (p._store(v),)).digest == sweep.base.digest]
        out.append(LeverSetting(p, tuple(p.values), same[0] if same else None))
    return out


def _sub_sweep(sweep: Sweep, name: str, levers: tuple[Parameter, ...], replicates: int,
               draws: Draws) -> Sweep:
    block = Block("lever", Design("grid", None, sweep.seed), levers)
    return replace(sweep, name=f"{sweep.name}-{name}", levers=block, origin=None
                   ).with_replicates(replicates).with_posterior(draws)


def lever_runs(sweep: Sweep, draws: Draws, replicates: int, work: Path, *,
               workers: int | None = None, progress: bool = False) -> pd.DataFrame:
    """Run the one-at-a-time lever sweeps under the posterior into ``work``; their runs.

    Args:
        sweep: the sweep file whose levers are moved (its base, overrides, seed and
            uncertainties are kept).
        draws: the posterior draws; every point's replicates are spread over them.
        replicates: replicates per point (at least the number of draws).
        work: a folder for the sweeps' result folders (one per lever and the baseline).
        workers: local processes.
        progress: progress bars.

    Returns:
        One row per run: ``lever`` (``baseline`` or the lever's name), ``value`` (its
        label), ``baseline``, ``point_id``, ``draw_id``, the uncertainties, the outcomes.
        Under each lever, its baseline value's rows are the baseline's runs.
    """
    from normsim.experiments.store import run_sweep
    from normsim.experiments.tasks import plan_tasks

    uncertain = [p.name for p in sweep.uncertainties.parameters]
    columns = ["point_id", "draw_id", *uncertain, *OUTCOMES]

    def run(name: str, levers: tuple[Parameter, ...]) -> pd.DataFrame:
        sub = _sub_sweep(sweep, name, levers, replicates, draws)
        folder = Path(work) / name
        tasks = len(plan_tasks(sub.n_points, sub.replicates))
        run_sweep(sub, folder, workers=min(workers or os.cpu_count() or 1, tasks),
                  progress=progress)  # no pool started for a sweep of one task
        wanted = [*columns, *(p.name for p in levers)]
        return pd.read_parquet(folder / "runs.parquet", columns=wanted)

    base = run("baseline", ())
    parts = [base.assign(lever="baseline", value="as written", baseline=True)]
    for setting in lever_settings(sweep):
        p = setting.parameter
        moved = setting.moved()
        runs = run(p.name, (moved,)) if moved.values else None
        for i, v in enumerate(setting.values):
            if i == setting.baseline:
                part = base.assign(baseline=True)
            else:
                assert runs is not None
                stored = p._store(v)
                part = runs[runs[p.name].astype(object).where(runs[p.name].notna(), None)
                            .map(lambda x, s=stored: x == s)].drop(columns=[p.name])
                part = part.assign(baseline=False)
            parts.append(part.assign(lever=p.name, value=value_label(v)))
    table = pd.concat(parts, ignore_index=True)
    front = ["lever", "value", "baseline"]
    return table[front + [c for c in table.columns if c not in front]]
