"""The tidy result tables, their metadata and the run summary.

One shape is shared by ``normsim run``, sweeps and notebooks (STYLE habit 10):

- ``runs``: one row per run, its outcomes;
- ``steps``: one row per run and step, regional series;
- ``agents``: one row per run, step and state;
- ``metadata.json``: versions, git commit, master seed, the scenario's hash and text.

Every row carries the run's seed, so any run can be replayed alone.
"""

from __future__ import annotations

import json
import platform
import subprocess
from collections import Counter
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from normsim import outdir
from normsim.norms import NORM_KEYS, RegionalStage, StateStage

STAGE_NAMES = [s.name.lower() for s in StateStage]
REGIONAL_NAMES = [s.name.lower() for s in RegionalStage]
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


def _nullable(values: np.ndarray, missing: np.ndarray) -> pd.arrays.IntegerArray:
    """Integers with <NA> where ``missing``: a step or year that never came."""
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype("int64"), missing)


def tables(
    arrays: dict[str, np.ndarray],
    codes: tuple[str, ...],
    start_year: int,
    seeds: list[int],
    run_ids: list[int],
    replicates: list[int],
    with_agents: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Build the runs, steps and agents tables from stacked trajectories (R, T + 1, ...)."""
    stage, regional = arrays["stage"], arrays["regional"]
    r, t1, n = stage.shape
    adopted = stage >= StateStage.ADOPTER
    share = adopted.mean(axis=2)
    tipped = regional >= RegionalStage.CASCADE
    tipping_step = np.where(tipped.any(axis=1), tipped.argmax(axis=1), -1)
    institution = arrays["institution"]
    adoption_step = np.where(institution.any(axis=1), institution.argmax(axis=1), -1)
    first_adoption = np.where(adopted.any(axis=1), adopted.argmax(axis=1), -1)  # (R, N)

    # The blockers of each run's last failed vote, and the order of first adoption.
    failed = arrays["tabled"] & ~institution
    any_failed = failed.any(axis=1)
    last_failed = t1 - 1 - failed[:, ::-1].argmax(axis=1)
    blocked = arrays["blockers"][np.arange(r), last_failed] & any_failed[:, None]
    never = np.iinfo(np.int32).max
    order = np.argsort(np.where(first_adoption >= 0, first_adoption, never), axis=1,
                       kind="stable")
    names = np.asarray(codes, dtype=object)
    blockers = [names[row].tolist() for row in blocked]
    counts = (first_adoption >= 0).sum(axis=1)
    orders = [names[row[:k]].tolist() for row, k in zip(order, counts, strict=True)]

    runs = pd.DataFrame({
        "run_id": run_ids,
        "replicate": replicates,
        "seed": pd.array(seeds, dtype="int64"),
        "cascade_reached": tipping_step >= 0,
        "tipping_step": _nullable(tipping_step, tipping_step < 0),
        "tipping_year": _nullable(start_year + tipping_step, tipping_step < 0),
        "peak_adopter_share": share.max(axis=1),
        "final_adopter_share": share[:, -1],
        "institutional_adoption": adoption_step >= 0,
        "adoption_year": _nullable(start_year + adoption_step, adoption_step < 0),
        "blockers": blockers,
        "adoption_order": orders,
        "proposals": arrays["tabled"].sum(axis=1),
    })

    step_index = np.tile(np.arange(t1), r)
    run_index = np.repeat(np.arange(r), t1)
    stage_counts = {f"n_{name}": (stage == code).sum(axis=2).ravel()
                    for code, name in enumerate(STAGE_NAMES)}
    mean_norms = arrays["norms"].mean(axis=2)  # (R, T + 1, 6)
    steps = pd.DataFrame({
        "run_id": np.asarray(run_ids)[run_index],
        "seed": pd.array(np.asarray(seeds)[run_index], dtype="int64"),
        "step": step_index,
        "year": start_year + step_index,
        "adopter_share": share.ravel(),
        "mean_support": arrays["support"].mean(axis=2).ravel(),
        **stage_counts,
        "regional_stage": pd.Categorical.from_codes(regional.ravel(), REGIONAL_NAMES),
        **{f"norm_{k}": mean_norms[:, :, j].ravel() for j, k in enumerate(NORM_KEYS)},
        "proposal_tabled": arrays["tabled"].ravel(),
    })

    agents = None
    if with_agents:
        cells = r * t1 * n
        agents = pd.DataFrame({
            "run_id": np.repeat(np.asarray(run_ids), t1 * n),
            "seed": pd.array(np.repeat(np.asarray(seeds), t1 * n), dtype="int64"),
            "step": np.tile(np.repeat(np.arange(t1), n), r),
            "year": start_year + np.tile(np.repeat(np.arange(t1), n), r),
            "state": pd.Categorical.from_codes(np.tile(np.arange(n), r * t1), list(codes)),
            "support": arrays["support"].reshape(cells),
            "stage": pd.Categorical.from_codes(stage.reshape(cells), STAGE_NAMES),
            **{f"norm_{k}": arrays["norms"][..., j].reshape(cells)
               for j, k in enumerate(NORM_KEYS)},
        })
    return runs, steps, agents


def threshold_tables(
    runs: list[Any],
    seeds: list[int],
    run_ids: list[int],
    tipping_share: float,
    with_agents: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """The runs, steps and (optionally) agents tables of threshold-model runs.

    A run's cascade is reached when its adopter share reaches ``tipping_share``. Adoption is
    monotone, so the agents table gives each node's adoption step once per run.
    """
    shares = [run.adopter_share for run in runs]
    tipping_step = np.array([int(np.argmax(s >= tipping_share)) if (s >= tipping_share).any()
                             else -1 for s in shares])
    table = pd.DataFrame({
        "run_id": run_ids,
        "replicate": run_ids,
        "seed": pd.array(seeds, dtype="int64"),
        "cascade_reached": tipping_step >= 0,
        "tipping_step": _nullable(tipping_step, tipping_step < 0),
        "peak_adopter_share": [float(s.max()) for s in shares],
        "final_adopter_share": [float(s[-1]) for s in shares],
        "steps_run": [run.steps_run for run in runs],
    })
    lengths = [len(s) for s in shares]
    n = runs[0].adoption_step.size if runs else 0
    steps = pd.DataFrame({
        "run_id": np.repeat(run_ids, lengths),
        "seed": pd.array(np.repeat(seeds, lengths), dtype="int64"),
        "step": np.concatenate([np.arange(k) for k in lengths]) if runs else [],
        "adopter_share": np.concatenate(shares) if runs else [],
    })
    steps["n_adopter"] = np.rint(steps["adopter_share"] * n).astype("int64")
    agents = None
    if with_agents:
        agents = pd.DataFrame({
            "run_id": np.repeat(run_ids, n),
            "seed": pd.array(np.repeat(seeds, n), dtype="int64"),
            "node": np.tile(np.arange(n), len(runs)),
            "adoption_step": np.concatenate([run.adoption_step for run in runs]),
        })
    return table, steps, agents


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
        "normsim_version": version("normsim"),
        "mesa_version": version("mesa"),
        "python_version": platform.python_version(),
        "numpy_version": np.__version__,
        "git_commit": _git_commit(),
        "scenario_name": scenario.name,
        "scenario_file": Path(scenario.source).name,
        "scenario_hash": scenario.digest,
        "scenario_text": scenario.text,
        "scenario_resolved": scenario.data,
        "master_seed": master_seed,
        "replicates": replicates,
        "engine": engine,
        "steps": steps,
        "seed_scheme": "numpy.random.SeedSequence(master_seed).spawn(replicates); "
                       "each child's generate_state(1, uint64)[0] >> 1 is the row's seed",
    }


# --------------------------------------------------------------------------- summary


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _probability(label: str, flags: pd.Series) -> str:
    k, n = int(flags.sum()), len(flags)
    lo, hi = wilson_interval(k, n)
    return f"{label:<34}{k / n:6.1%}   95% CI [{lo:.1%}, {hi:.1%}]   ({k} of {n} runs)"


def _histogram(years: pd.Series, width: int = 30) -> list[str]:
    counts = Counter(years.dropna().astype(int))
    if not counts:
        return []
    top = max(counts.values())
    lines = []
    for year in range(min(counts), max(counts) + 1):
        bar = "#" * max(1 if counts[year] else 0, round(width * counts[year] / top))
        lines.append(f"    {year}  {bar} {counts[year]}")
    return lines


def _quantiles(values: pd.Series, fmt: str = ".3f") -> str:
    """5/25/50/75/95th percentiles of the non-missing values, or "none"."""
    values = values.dropna().astype(float)
    if values.empty:
        return "none"
    q = np.percentile(values, [5, 25, 50, 75, 95])
    return "  ".join(f"{p}%: {v:{fmt}}" for p, v in zip((5, 25, 50, 75, 95), q, strict=True))


def _summarize_threshold(results: Results) -> str:
    runs, meta = results.runs, results.metadata
    data = meta["scenario_resolved"]
    return "\n".join([
        f"normsim {meta['normsim_version']} · threshold scenario {meta['scenario_name']} · "
        f"{len(runs)} runs · master seed {meta['master_seed']}",
        "",
        _probability(f"P(adopter share >= {data['tipping_share']:.3g})", runs["cascade_reached"]),
        f"  final adopter share               {_quantiles(runs['final_adopter_share'])}",
        f"  step reaching it (runs that did)  {_quantiles(runs['tipping_step'], '.0f')}",
        f"  steps to the fixed point          {_quantiles(runs['steps_run'], '.0f')}",
    ])


def _tipping_point(data: dict[str, Any], n_states: int, held: int) -> str:
    """The tipping point in words: a count of states (and how many more), or a share."""
    share = data["region"]["tipping_share"]
    weights = {float(s.get("tipping_weight", 1.0)) for s in data["states"].values()}
    if len(weights) == 1:
        needed = next((k for k in range(n_states + 1) if k / n_states >= share), None)
        if needed is not None:
            more = f" ({needed - held} more)" if needed > held else " (reached at the start)"
            return f"tipping at {needed} of {n_states}{more}"
    return f"tipping at a weighted adopter share of {share:.0%}"


def _start_adopters(results: Results) -> pd.Series:
    """Per state code, the share of runs in which it holds the norm at step 0.

    ``adoption_order`` lists a run's adopters by their first step of adoption, so its first
    ``n_adopter + n_internalized`` (of step 0) are the adopters at the start.
    """
    steps, runs = results.steps, results.runs
    first = steps.loc[steps["step"] == 0].set_index("run_id")
    held = (first["n_adopter"] + first["n_internalized"]).reindex(runs["run_id"]).to_numpy()
    tally = Counter(c for order, k in zip(runs["adoption_order"], held, strict=True)
                    for c in order[: int(k)])
    return pd.Series(tally, dtype=float) / max(len(runs), 1)


def summarize(results: Results) -> str:
    """The text summary that ``normsim run`` prints."""
    if results.metadata["scenario_resolved"]["kind"] == "threshold":
        return _summarize_threshold(results)
    runs, meta = results.runs, results.metadata
    data = meta["scenario_resolved"]
    start, end = data["start_year"], data["start_year"] + meta["steps"]
    codes = list(data["states"])
    n = len(runs)
    at_start = _start_adopters(results).reindex(codes, fill_value=0.0)
    usual = [c for c in codes if at_start[c] > 0.5]
    lines = [
        f"normsim {meta['normsim_version']} · scenario {meta['scenario_name']} "
        f"({start}–{end}) · {n} runs · master seed {meta['master_seed']} · "
        f"engine {meta['engine']}",
        "",
        f"adopters at the start ({start}): {', '.join(usual) or 'none'} ({len(usual)} of "
        f"{len(codes)}{' in most runs' if any(0 < at_start[c] < 1 for c in codes) else ''}); "
        f"{_tipping_point(data, len(codes), len(usual))}",
        _probability(f"P(cascade by {end})", runs["cascade_reached"]),
        f"  tipping year (runs that tipped)   {_quantiles(runs['tipping_year'], '.0f')}",
        *_histogram(runs["tipping_year"]),
        _probability(f"P(institutional adoption by {end})", runs["institutional_adoption"]),
        f"  adoption year                     {_quantiles(runs['adoption_year'], '.0f')}",
    ]
    voted = runs[runs["blockers"].map(len) > 0]
    lines += ["", "Blockers at the last failed vote (share of the "
              f"{len(voted)} runs with a failed vote):"]
    tally = Counter(code for blockers in voted["blockers"] for code in blockers)
    if tally:
        lines += [f"  {code}  {count / len(voted):6.1%}" for code, count in tally.most_common(5)]
    else:
        lines.append("  no proposal failed")
    ranks: dict[str, list[int]] = {c: [] for c in codes}
    for order in runs["adoption_order"]:
        for rank, code in enumerate(order):
            ranks[code].append(rank)
    lines += [
        "",
        f"Adoption order: 'by {end}' is P(adopts by the horizon), the share of runs in which the",
        f"state holds the norm at any step from {start} (step 0) on; 'at the start', the share",
        f"in which it already holds it in {start} (support >= its threshold, drawn per run)",
        f"  {'state':<5}  {f'by {end}':>7}  {'at the start':>12}  median rank among adopters",
    ]
    for code in sorted(codes, key=lambda c: (-len(ranks[c]), np.median(ranks[c] or [99]))):
        rank = f"{np.median(ranks[code]) + 1:.0f}" if ranks[code] else "—"
        held = f"{at_start[code]:.1%}" if at_start[code] else "—"
        lines.append(f"  {code:<5}  {len(ranks[code]) / n:>7.1%}  {held:>12}  {rank}")
    common = Counter(tuple(o[:4]) for o in runs["adoption_order"] if len(o) >= 4)
    if common:
        order, count = common.most_common(1)[0]
        lines.append(f"  most frequent first four: {' > '.join(order)} "
                     f"({count / n:.1%} of runs)")
    return "\n".join(lines)
