"""Tasks: what one unit of a sweep's work runs, and the tables it returns.

The runs of a sweep are partitioned into tasks of about :data:`TASK_RUNS` runs, in (point,
replicate) order (:func:`plan_tasks`); :func:`run_task` runs one through the point
scenario's model kind (``kind.simulate``, then ``kind.tables``) and returns its runs and
steps tables as Parquet bytes, with every row's point and parameter values in front. It is
the module-level function that local processes and Dask workers call.

Under a posterior (:attr:`TaskSpec.draws`), an item's replicates are run in groups, one per
posterior draw (replicate ``r`` runs draw ``r % D``), each group on the draw's scenario, and
the rows are put back in replicate order; ``draw_id`` follows the point's values in both
tables, and the drawn values follow it in the runs table. Seeds and run ids are those of
the sweep without the posterior.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from normsim.experiments.posterior import Draws
from normsim.experiments.sweepfile import KINDS, Parameter, build_point
from normsim.models import get_kind
from normsim.scenario import Scenario
from normsim.seeds import run_seed

TASK_RUNS = 1000
"""Runs per task by default: large enough to run on arrays, small enough to resume finely."""


@dataclass(frozen=True)
class Task:
    """A unit of work: runs of one or more points, executed together on arrays.

    Attributes:
        task_id: its index in the sweep's fixed partition; names its chunk files.
        items: (point_id, first replicate, stop replicate) triples.
    """

    task_id: int
    items: tuple[tuple[int, int, int], ...]

    @property
    def runs(self) -> int:
        """Number of runs in the task."""
        return sum(stop - start for _, start, stop in self.items)


def plan_tasks(n_points: int, replicates: int, task_runs: int = TASK_RUNS) -> list[Task]:
    """Partition the runs into tasks of about ``task_runs`` runs, in (point, replicate) order.

    The partition depends on these three numbers only, so an interrupted sweep and its
    resumption agree on what each chunk holds.
    """
    tasks: list[Task] = []
    if replicates >= task_runs:
        for p in range(n_points):
            for start in range(0, replicates, task_runs):
                tasks.append(Task(len(tasks), ((p, start, min(start + task_runs, replicates)),)))
    else:
        per = max(1, task_runs // replicates)
        for first in range(0, n_points, per):
            items = tuple((p, 0, replicates) for p in range(first, min(first + per, n_points)))
            tasks.append(Task(len(tasks), items))
    return tasks


@dataclass(frozen=True)
class TaskSpec:
    """What a worker needs to run a task: picklable, independent of the sweep file."""

    task: Task
    base: Scenario
    parameters: tuple[Parameter, ...]
    values: tuple[tuple[Any, ...], ...]  # per item, in parameter order
    master: int
    replicates: int
    draws: Draws | None = None


@dataclass(frozen=True)
class TaskResult:
    """A finished task: its runs and steps tables as Parquet bytes."""

    task_id: int
    runs: bytes
    steps: bytes
    n_runs: int


LIST_COLUMNS = ("blockers", "adoption_order")


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema = table.schema
    for name in LIST_COLUMNS:
        if name in schema.names:
            schema = schema.set(schema.get_field_index(name), pa.field(name, pa.list_(pa.string())))
    sink = pa.BufferOutputStream()
    pq.write_table(table.cast(schema), sink)
    return sink.getvalue().to_pybytes()

def run_task(spec: TaskSpec) -> TaskResult:
    """Run one task: each item's replicates through the point's model kind, then the tables.

    The module-level function that local processes and Dask workers call. Rows are in
    (point, replicate) order, and in step order within a run.
    """
    run_parts, step_parts = [], []
    for (point_id, start, stop), values in zip(spec.task.items, spec.values, strict=True):
        reps = list(range(start, stop))
        if spec.draws is None:
            groups: list[tuple[int | None, list[int]]] = [(None, reps)]
        else:
            d = len(spec.draws)  # replicate r runs draw r % d
            groups = [(first % d, reps[i::d]) for i, first in enumerate(reps[:d])]
        point_runs, point_steps = [], []
        for draw, part in groups:
            base = spec.base if draw is None else spec.draws.apply(spec.base, draw)
            scenario = build_point(base, spec.parameters, values)
            kind = get_kind(scenario.kind)
            seeds = [run_seed(spec.master, point_id, r) for r in part]
            run_ids = [point_id * spec.replicates + r for r in part]
            raw = kind.simulate(scenario, seeds)
            runs, steps, _ = kind.tables(scenario, raw, seeds, run_ids, part, False)
            point_runs.append(_with_point(runs, point_id, values, spec, draw))
            point_steps.append(_with_point(steps, point_id, values, spec, draw))
        if len(groups) > 1:  # back in replicate order (and step order within a run)
            run_parts.append(pd.concat(point_runs, ignore_index=True)
                             .sort_values("run_id", kind="stable"))
            step_parts.append(pd.concat(point_steps, ignore_index=True)
                              .sort_values("run_id", kind="stable"))
        else:
            run_parts += point_runs
            step_parts += point_steps
    runs = pd.concat(run_parts, ignore_index=True)
    steps = pd.concat(step_parts, ignore_index=True)
    return TaskResult(spec.task.task_id, _parquet_bytes(runs), _parquet_bytes(steps), len(runs))


def _with_point(
    table: pd.DataFrame, point_id: int, values: tuple[Any, ...], spec: TaskSpec,
    draw: int | None = None,
) -> pd.DataFrame:
    """Put ``point_id``, ``replicate`` and the point's values before the outcome columns.

    Every row of ``table`` belongs to the point; its replicate follows from its run id
    (``run_id = point_id * replicates + replicate``). Under a posterior, ``draw_id``
    follows, and in the runs table (the one with ``replicate``) the drawn values.
    """
    rows = len(table)
    run_id = table["run_id"].to_numpy()
    front: dict[str, Any] = {
        "point_id": np.full(rows, point_id, dtype=np.int64),
        "run_id": run_id,
        "replicate": run_id - point_id * spec.replicates,
        "seed": table["seed"].array,
    }
    for j, p in enumerate(spec.parameters):
        front[p.name] = pd.array([values[j]] * rows, dtype=KINDS[p.kind])
    if spec.draws is not None and draw is not None:
        front["draw_id"] = np.full(rows, draw, dtype=np.int64)
        if "replicate" in table.columns:
            for name, value in spec.draws.named(draw).items():
                front[name] = np.full(rows, value, dtype=np.float64)
    rest = table.drop(columns=["run_id", "replicate", "seed"], errors="ignore")
    return pd.concat([pd.DataFrame(front), rest.reset_index(drop=True)], axis=1)
