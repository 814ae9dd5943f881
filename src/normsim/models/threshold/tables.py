"""The threshold kind's result tables (runs, steps, optionally agents) and its run summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from normsim.analysis.intervals import probability_line, quantiles
from normsim.results import nullable

if TYPE_CHECKING:
    from normsim.results import Results

COLUMNS = frozenset({
    "cascade_reached",
    "tipping_step",
    "peak_adopter_share",
    "final_adopter_share",
    "steps_run",
    "step",
    "adopter_share",
    "n_adopter",
    "node",
    "adoption_step",
})
"""The outcome columns of the runs, steps and agents tables (besides run_id, replicate, seed)."""


def threshold_tables(
    runs: list[Any],
    seeds: list[int],
    run_ids: list[int],
    tipping_share: float,
    with_agents: bool = False,
    replicates: list[int] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """The runs, steps and (optionally) agents tables of threshold-model runs.

    A run's cascade is reached when its adopter share reaches ``tipping_share``. Adoption is
    monotone, so the agents table gives each node's adoption step once per run.
    ``replicates`` (default: ``run_ids``) is each run's replicate index.
    """
    shares = [run.adopter_share for run in runs]
    tipping_step = np.array([int(np.argmax(s >= tipping_share)) if (s >= tipping_share).any()
                             else -1 for s in shares])
    table = pd.DataFrame({
        "run_id": run_ids,
        "replicate": run_ids if replicates is None else replicates,
        "seed": pd.array(seeds, dtype="int64"),
        "cascade_reached": tipping_step >= 0,
        "tipping_step": nullable(tipping_step, tipping_step < 0),
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


def summarize(results: Results) -> str:
    """The text summary of a threshold run that ``normsim run`` prints."""
    runs, meta = results.runs, results.metadata
    data = meta["scenario_resolved"]
    return "\n".join([
        f"normsim {meta['normsim_version']} · threshold scenario {meta['scenario_name']} · "
        f"{len(runs)} runs · master seed {meta['master_seed']}",
        "",
        probability_line(f"P(adopter share >= {data['tipping_share']:.3g})",
                         runs["cascade_reached"]),
        f"  final adopter share               {quantiles(runs['final_adopter_share'])}",
        f"  step reaching it (runs that did)  {quantiles(runs['tipping_step'], '.0f')}",
        f"  steps to the fixed point          {quantiles(runs['steps_run'], '.0f')}",
    ])

