"""The store: a sweep folder's manifest and chunks, resumption, consolidation.

Resume: the tasks are a fixed partition of (point, replicates) into chunks of about
``task_runs`` runs (:func:`normsim.experiments.tasks.plan_tasks`). A finished task's tables
are written to ``chunks/`` under names that carry the task id (runs last, each by temporary
file and rename), so after Ctrl-C or ``kill -9`` a rerun with ``resume=True`` finds what is
done and runs only the rest; the consolidated tables equal those of an uninterrupted sweep.
The folder's manifest records the resolved sweep at its start (design, points, replicates,
task size, seed, the base scenario's data, the file's text); a resume that asks for
anything else, by an edited file or other options, is refused and told what changed
(:func:`sweep_changes`), and metadata.json records the text the sweep started with. A sweep
under a posterior records its draws in the resolved sweep (the posterior's digest, the
number of draws and their seed), so a resume with another posterior, or after the
calibration folder was recalibrated, is refused; the folder it was read from is recorded
beside (``posterior_folder``), for a resume that does not name it again.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from normsim import outdir
from normsim.experiments.executors import SweepUsageError, _connect, _run_dask, _run_local
from normsim.experiments.sweepfile import Sweep
from normsim.experiments.tasks import TASK_RUNS, Task, TaskResult, TaskSpec, plan_tasks
from normsim.models import get_kind
from normsim.results import make_metadata
from normsim.seeds import scheme

__all__ = [
    "CHUNKS",
    "MANIFEST",
    "OUTPUT_FILES",
    "SweepReport",
    "SweepUsageError",
    "default_out",
    "is_complete",
    "read_manifest",
    "remaining_runs",
    "run_sweep",
    "sweep_changes",
    "work_dir",
]

MANIFEST = "sweep.json"
CHUNKS = "chunks"
OUTPUT_FILES = ("runs.parquet", "steps.parquet", "points.parquet", "metadata.json")


def _chunk(directory: Path, table: str, task_id: int) -> Path:
    return directory / CHUNKS / f"{table}-{task_id:07d}.parquet"


def _write_atomic(path: Path, data: bytes) -> None:
    outdir.write_bytes(path, data)


def _done_tasks(directory: Path) -> set[int]:
    """Tasks whose chunks are both in place (runs is written last)."""
    done = set()
    for path in (directory / CHUNKS).glob("runs-*.parquet"):
        task_id = int(path.stem.split("-")[1])
        if _chunk(directory, "steps", task_id).is_file():
            done.add(task_id)
    return done


def _manifest(sweep: Sweep, task_runs: int, n_tasks: int) -> dict[str, Any]:
    """What a sweep folder records when the sweep starts, for a resume to check.

    Besides the summary keys: ``resolved``, the sweep as it runs (:meth:`Sweep.describe`,
    the points and the task size); ``file``, the sweep as its file says, before the
    options; ``base``, the base scenario's resolved data; and the file's ``text`` and
    ``description``, which metadata.json records when the sweep is done.
    """
    written = sweep.written
    return {
        "sweep": sweep.name,
        "sweep_hash": sweep.digest,
        "replicates": sweep.replicates,
        "samples": sweep.samples,
        "seed": sweep.seed,
        "points": sweep.n_points,
        "task_runs": task_runs,
        "tasks": n_tasks,
        "format": 1,
        "resolved": {**sweep.describe(), "points": sweep.n_points, "task_runs": task_runs,
                     "seed_scheme": scheme(key="p, b")},  # a folder of another scheme: no resume
        "file": written.describe(),
        "base": sweep.base.data,
        "text": written.text,
        "description": written.description,
        **({"posterior_folder": str(Path(sweep.posterior.folder).absolute())}
           if sweep.posterior is not None else {}),
    }


SUMMARY_KEYS = ("sweep", "sweep_hash", "replicates", "samples", "seed", "points", "task_runs")
"""The manifest keys that folders started before ``resolved`` was recorded can compare."""
RECORDED_KEYS = ("text", "description")
"""Manifest keys a resume keeps from the start: they describe what the data were made with."""


_ABSENT = object()
"""A key one side of a comparison lacks."""


def _show(value: Any) -> str:
    """A value in a one-line message: JSON, hashes and long values cut short."""
    if value is _ABSENT:
        return "(none)"
    text = json.dumps(value, sort_keys=True, separators=(", ", ": "))
    if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value):
        return text[:13] + '…"'
    return text if len(text) <= 60 else text[:57] + "..."


def _differences(old: Any, new: Any, path: str = "") -> list[str]:
    """Dotted keys whose values differ between two JSON-like values, as ``key old -> new``.

    Lists of mappings that have a ``name`` (a block's parameters) are matched by name.
    """
    named = (
        isinstance(old, list)
        and isinstance(new, list)
        and all(isinstance(v, dict) and "name" in v for v in (*old, *new))
    )
    if named:
        old = {v["name"]: v for v in old}
        new = {v["name"]: v for v in new}
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in [*old, *(k for k in new if k not in old)]:
            where = f"{path}.{key}" if path else str(key)
            out += _differences(old.get(key, _ABSENT), new.get(key, _ABSENT), where)
        return out
    return [] if old == new else [f"{path} {_show(old)} -> {_show(new)}"]


def sweep_changes(old: Mapping[str, Any], new: Mapping[str, Any], limit: int = 6) -> list[str]:
    """What differs between the sweep a folder started and the sweep asked for now.

    Compares the sweep as its file says (``file``), the sweep as it runs, options applied
    (``resolved``), and the base scenario's resolved data (``base``), key by key. A folder
    started before these were recorded compares its summary keys.

    Args:
        old: the folder's manifest.
        new: the manifest of the sweep asked for now.
        limit: most changes named; the rest are counted.

    Returns:
        One ``key old -> new`` item per change, empty if the sweep is the same.
    """
    if "resolved" not in old:
        changes = [
            f"{k} {_show(old.get(k, _ABSENT))} -> {_show(new[k])}"
            for k in SUMMARY_KEYS
            if old.get(k, _ABSENT) != new[k]
        ]
    else:
        base = [f"base scenario {c}" for c in _differences(old.get("base", _ABSENT), new["base"])]
        changes = []
        for form in ("file", "resolved"):
            for change in _differences(old.get(form, _ABSENT), new[form]):
                if change not in changes and not (base and change.startswith("base_scenario_hash")):
                    changes.append(change)
        changes += base
    if len(changes) > limit:
        changes = [*changes[: limit - 1], f"and {len(changes) - limit + 1} more"]
    return changes


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The manifest of a sweep folder, or None if it holds no sweep."""
    path = Path(directory) / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def work_dir(directory: Path) -> Path:
    """The folder a sweep in ``directory`` streams into.

    A sweep started with ``overwrite`` in a folder that holds results builds its set in
    ``directory/.pending`` (:data:`normsim.outdir.PENDING`), so the old results stay
    readable until the new set is complete and is swapped in whole; an interrupted one is
    resumed there. Otherwise the sweep streams into ``directory`` itself.
    """
    pending = Path(directory) / outdir.PENDING
    return pending if (pending / MANIFEST).is_file() else Path(directory)


def _check_writable(directory: Path, beside: bool) -> None:
    try:
        outdir.check_writable(directory, beside=beside)
    except outdir.OutputError as err:
        raise SweepUsageError(str(err)) from None


def _prepare(
    directory: Path, manifest: dict[str, Any], resume: bool, overwrite: bool = False
) -> Path:
    """Check the folder before anything is written; start or take up the sweep there.

    Returns the folder the sweep streams into (:func:`work_dir`). A folder that holds
    something is refused unless ``resume`` (it must hold this sweep) or ``overwrite``; a
    folder that cannot be written is refused.

    A resume must ask for the sweep the folder started (:func:`sweep_changes`); it then
    keeps the manifest's recorded text (``manifest`` is updated in place), so that
    metadata.json records the file the data were made with.
    """
    if directory.exists() and not directory.is_dir():
        raise SweepUsageError(
            f"{directory}: --out must be a folder, and a file of that name exists"
        )
    if resume and overwrite:
        raise SweepUsageError("--resume completes the sweep in --out and --overwrite replaces "
                              "it; give one of them")
    with contextlib.suppress(OSError):
        outdir.clean_stale(directory)
    work = work_dir(directory) if resume else directory
    old = read_manifest(work) if work.is_dir() else None
    if not resume:
        if outdir.holds_something(directory):
            if not overwrite:
                what = (f"already holds sweep {old['sweep']!r}; pass --resume to complete it "
                        "or --overwrite to replace it" if old else
                        "is not empty; pass --overwrite to replace its results")
                raise SweepUsageError(f"{directory} {what}, or choose another --out")
            work = directory / outdir.PENDING
        _check_writable(directory, beside=work != directory)
        return work
    if old is None:
        raise SweepUsageError(f"{directory} holds no sweep to resume; run without --resume")
    meta_file = work / "metadata.json"
    if meta_file.is_file() and json.loads(meta_file.read_text()).get("kind") != "sweep":
        raise SweepUsageError(f"{directory} holds the results of a normsim run beside a sweep's "
                              "files; they do not belong together: rerun the sweep with "
                              "--overwrite")
    _check_writable(directory, beside=work != directory)
    changes = sweep_changes(old, manifest)
    if changes:
        raise SweepUsageError(
            f"{directory}: cannot resume: the sweep changed since it started, so the folder "
            f"holds a different sweep: {'; '.join(changes)}; rerun without --resume into a "
            "new folder, or with --overwrite"
        )
    for key in RECORDED_KEYS:  # the data were made with the text the sweep started with
        if key in old:
            manifest[key] = old[key]
    return work


@dataclass
class SweepReport:
    """What :func:`run_sweep` did."""

    directory: Path
    runs: int
    points: int
    tasks: int
    tasks_run: int
    wall_time: float
    complete: bool = True


def is_complete(directory: Path) -> bool:
    """Whether a folder holds a finished, consolidated sweep."""
    meta = Path(directory) / "metadata.json"
    return (
        meta.is_file()
        and read_manifest(directory) is not None
        and json.loads(meta.read_text()).get("kind") == "sweep"
    )


def run_sweep(
    sweep: Sweep,
    directory: Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    task_runs: int = TASK_RUNS,
    progress: bool = False,
    overwrite: bool = False,
) -> SweepReport:
    """Run a sweep into ``directory``, streaming chunks, then consolidate the tables.

    Args:
        sweep: the validated sweep.
        directory: the output folder (created; must be empty or hold this sweep, unless
            ``overwrite``).
        workers: local processes (default: the number of cores; 1 runs in this process).
        scheduler: address of a Dask scheduler; overrides ``workers``.
        resume: complete an interrupted sweep in ``directory``.
        task_runs: runs per task (fixed for a sweep and its resumption).
        progress: show a progress bar with the ETA on standard error.
        overwrite: replace what ``directory`` holds. The new sweep streams into
            ``directory/.pending`` (:func:`work_dir`) and is swapped in whole when complete;
            until then the old results stay readable, and an interrupted overwrite is
            completed by ``resume``.

    Returns:
        A :class:`SweepReport`.

    Raises:
        SweepUsageError: the folder cannot be used as asked (nothing is written then).
        normsim.outdir.WriteFailed: writing failed (disk full); the finished tasks are kept.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    directory = Path(directory)
    tasks = plan_tasks(sweep.n_points, sweep.replicates, task_runs)
    manifest = _manifest(sweep, task_runs, len(tasks))
    work = _prepare(directory, manifest, resume, overwrite)
    total = sweep.n_points * sweep.replicates
    if is_complete(work):
        if work != directory:  # complete, but cut short before the swap
            outdir.promote_pending(directory)
        return SweepReport(
            directory, total, sweep.n_points, len(tasks), 0, time.perf_counter() - started
        )
    client = _connect(scheduler) if scheduler else None  # before anything is written

    if work != directory and not resume:  # an earlier overwrite, cut short: start afresh
        shutil.rmtree(work, ignore_errors=True)
    try:
        (work / CHUNKS).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise outdir.WriteFailed(f"{work}: cannot write ({err.strerror or err})") from None
    _write_atomic(work / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
    for stray in (work / CHUNKS).glob(".*.tmp"):  # a write cut short by a kill
        stray.unlink()
    done = _done_tasks(work)
    todo = [t for t in tasks if t.task_id not in done]
    workers = workers or os.cpu_count() or 1

    def specs() -> Iterator[TaskSpec]:
        for task in todo:
            values = tuple(sweep.point_values(p) for p, _, _ in task.items)
            yield TaskSpec(task, sweep.base, sweep.parameters, values, sweep.seed, sweep.replicates,
                           sweep.posterior)

    with tqdm(
        total=total,
        initial=total - sum(t.runs for t in todo),
        unit="run",
        desc=sweep.name,
        disable=not progress,
        dynamic_ncols=True,
        mininterval=0.5,
    ) as bar:

        def on_done(result: TaskResult) -> None:
            _write_atomic(_chunk(work, "steps", result.task_id), result.steps)
            _write_atomic(_chunk(work, "runs", result.task_id), result.runs)
            bar.update(result.n_runs)

        if client is not None:
            _run_dask(specs(), client, on_done)
        else:
            _run_local(specs(), workers, on_done)

    wall = time.perf_counter() - started
    engine = (
        {"engine": "dask", "scheduler": scheduler}
        if scheduler
        else {"engine": "local", "workers": workers}
    )
    _consolidate(
        sweep, work, tasks, {**engine, "task_runs": task_runs, "wall_time_s": round(wall, 3)}
    )
    if work != directory:
        outdir.promote_pending(directory)
    return SweepReport(
        directory, total, sweep.n_points, len(tasks), len(todo), time.perf_counter() - started
    )


def _concatenate(paths: list[Path], out: Path) -> None:
    """Append Parquet chunks into one file, one chunk in memory at a time."""
    with outdir.atomic_file(out) as tmp:
        writer: pq.ParquetWriter | None = None
        try:
            for path in paths:
                table = pq.read_table(path)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table.cast(writer.schema))
                del table
                pa.default_memory_pool().release_unused()  # keep memory at one chunk
        finally:
            if writer is not None:
                writer.close()


def _consolidate(
    sweep: Sweep, directory: Path, tasks: list[Task], execution: dict[str, Any]
) -> None:
    """Write runs/steps/points.parquet and, last, metadata.json; then drop the chunks."""
    ids = [t.task_id for t in tasks]
    for table in ("runs", "steps"):
        _concatenate([_chunk(directory, table, i) for i in ids], directory / f"{table}.parquet")
    points = sweep.points()
    with outdir.atomic_file(directory / "points.parquet") as tmp:
        points.to_parquet(tmp, index=False)
    meta = make_metadata(sweep.base, sweep.seed, sweep.replicates, "batch", sweep.base.steps)
    recorded = read_manifest(directory) or {}  # the text the sweep started with
    meta.update(
        {
            "kind": "sweep",
            "sweep_name": sweep.name,
            "sweep_description": recorded.get("description", sweep.description),
            "sweep_file": Path(sweep.source).name,
            "sweep_text": recorded.get("text", sweep.text),
            "sweep_hash": sweep.digest,
            "sweep": sweep.describe(),
            "points": sweep.n_points,
            "runs": sweep.n_points * sweep.replicates,
            **get_kind(sweep.base.kind).facts(sweep.base.data),
            "execution": execution,
            "files": sorted(OUTPUT_FILES),
            "seed_scheme": "point p: " + scheme(key="p, b") + "; run_id = p * replicates + r"
            + ("; under the posterior, replicate r of every point runs draw r % draws"
               if sweep.posterior is not None else ""),
        }
    )
    if sweep.posterior is not None:
        meta["posterior"] = {
            **sweep.posterior.describe(), "folder": Path(sweep.posterior.folder).name,
            "draws_table": sweep.posterior.table().to_dict(orient="list"),
        }
    _write_atomic(directory / "metadata.json", (json.dumps(meta, indent=2) + "\n").encode())
    shutil.rmtree(directory / CHUNKS, ignore_errors=True)



def default_out(sweep: Sweep) -> Path:
    """The default output folder of a sweep: ``results/<sweep name>``."""
    return Path("results") / sweep.name


def remaining_runs(directory: Path, sweep: Sweep, task_runs: int) -> int:
    """Runs still to do in an interrupted sweep folder."""
    directory = work_dir(directory)
    tasks = plan_tasks(sweep.n_points, sweep.replicates, task_runs)
    done = _done_tasks(Path(directory)) if (Path(directory) / CHUNKS).is_dir() else set()
    return sum(t.runs for t in tasks if t.task_id not in done)
