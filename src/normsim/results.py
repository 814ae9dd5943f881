"""The tidy result set shared by every kind: tables, their metadata, reading them back.

One shape is shared by ``normsim run``, sweeps and notebooks (STYLE habit 10):

- ``runs``: one row per run, its outcomes;
- ``steps``: one row per run and step, the series;
- ``agents``: one row per run, step and agent (optional);
- ``metadata.json``: versions, git commit, master seed, the scenario's hash and text.

Every row carries the run's seed, so any run can be replayed alone. Which columns a kind
writes is the kind's (``normsim.models.<kind>.tables``).
"""

from __future__ import annotations

import functools
import json
import platform
import subprocess
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from normsim import outdir, seeds

TABLE_FILES = {"runs": "runs.parquet", "steps": "steps.parquet", "agents": "agents.parquet"}
METADATA_FILE = "metadata.json"



@dataclass
class Results:
    """The tables of one experiment and its metadata."""

    runs: pd.DataFrame
    steps: pd.DataFrame
    agents: pd.DataFrame | None
    metadata: dict[str, Any]

    def write(self, out: Path, *, overwrite: bool = False) -> list[str]:
        """Write the tables and ``metadata.json`` into ``out`` as one set.

        The set is written into a staging folder beside ``out`` and put in place whole
        (:func:`normsim.outdir.publish`): an interrupted write leaves no half-written
        results, and with ``overwrite`` the old set stays readable until the new one is
        complete. ``metadata.json`` records the files of the set (``files``).

        Args:
            out: the output folder; it must be missing or empty unless ``overwrite``.
            overwrite: replace what ``out`` holds, as a whole.

        Returns:
            The names of the files written, sorted.

        Raises:
            normsim.outdir.OutputError: ``out`` holds something and ``overwrite`` is not
                given, or cannot be written.
            normsim.outdir.WriteFailed: writing failed; nothing was written.
        """
        out = Path(out)
        outdir.claim(out, overwrite=overwrite)
        files = sorted([f for n, f in TABLE_FILES.items() if getattr(self, n) is not None]
                       + [METADATA_FILE])
        metadata = {**self.metadata, "files": files}

        def write(staging: Path) -> None:
            for name, file in TABLE_FILES.items():
                table = getattr(self, name)
                if table is not None:
                    table.to_parquet(staging / file, index=False)
            (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n")

        return outdir.publish(out, write, last=METADATA_FILE)


class ResultsError(ValueError):
    """A folder that holds no complete, consistent set of results."""


def read_results(directory: Path) -> Results:
    """Read the tables that :meth:`Results.write` wrote.

    Raises:
        ResultsError: ``metadata.json`` is missing, a file it lists is missing, or a table
            beside it does not belong to the set (left by another run).
    """
    directory = Path(directory)
    meta_file = directory / METADATA_FILE
    if not meta_file.is_file():
        raise ResultsError(f"{directory}: no results here (metadata.json is missing)")
    metadata = json.loads(meta_file.read_text())
    listed = metadata.get("files")
    known = {*TABLE_FILES.values(), METADATA_FILE, *(listed or ())}
    present = {f for f in known if (directory / f).is_file()}
    if listed is None:  # written before sets recorded their files
        listed = sorted(present if metadata.get("kind") != "sweep"
                        else present - {TABLE_FILES["agents"]})
    missing = sorted(set(listed) - present)
    strays = sorted(present & set(TABLE_FILES.values()) - set(listed))
    if missing or not {TABLE_FILES["runs"], TABLE_FILES["steps"]} <= set(listed):
        raise ResultsError(f"{directory}: incomplete results: "
                           f"{', '.join(missing) or 'runs/steps.parquet'} missing")
    if strays:
        raise ResultsError(f"{directory}: {', '.join(strays)} does not belong to the results "
                           "in metadata.json (left by another run); rewrite the folder "
                           "with --overwrite")
    agents_file = directory / TABLE_FILES["agents"]
    results = Results(
        runs=pd.read_parquet(directory / TABLE_FILES["runs"]),
        steps=pd.read_parquet(directory / TABLE_FILES["steps"]),
        agents=pd.read_parquet(agents_file) if TABLE_FILES["agents"] in listed else None,
        metadata=metadata,
    )
    expected = metadata.get("runs", metadata.get("replicates"))
    if expected is not None and len(results.runs) != expected:
        raise ResultsError(f"{directory}: runs.parquet has {len(results.runs)} runs, "
                           f"metadata.json says {expected}; the files do not belong together")
    return results


def nullable(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    """Integers with <NA> where ``missing``: a step or year that never came."""
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype("int64"), missing)


@functools.cache
def provenance() -> dict[str, Any]:
    """Versions and the git commit, asked once per process.

    Calibrations and the page's ensemble call :func:`make_metadata` thousands of times.
    """
    return {
        "normsim_version": version("normsim"),
        "mesa_version": version("mesa"),
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "git_commit": _git_commit(),
    }


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
            text=True, timeout=5, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def make_metadata(scenario: Any, master_seed: int, replicates: int, engine: str,
                  steps: int) -> dict[str, Any]:
    """The provenance record written beside the tables."""
    return {
        **provenance(),
        "scenario_name": scenario.name,
        "scenario_file": Path(scenario.source).name,
        "scenario_hash": scenario.digest,
        "scenario_text": scenario.text,
        "scenario_resolved": scenario.data,
        "master_seed": master_seed,
        "replicates": replicates,
        "engine": engine,
        "steps": steps,
        "seed_scheme": seeds.scheme(),
    }

