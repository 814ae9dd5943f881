"""Figures from result folders: what ``normsim plot`` draws and the notebooks show.

The layers: :mod:`.style` (colours, rc, saving), :mod:`.runs` (a region folder over time),
:mod:`.sweeps` (P(outcome) against parameters, main effects, heatmaps), :mod:`.threshold`
(cascade curves, final sizes, the cascade window), :mod:`.sensitivity` (indices),
:mod:`.patterns` (the mechanism-necessity heatmap of ``normsim patterns --ablate``) and
:mod:`.posterior` (the headline fan chart and lever chart of ``normsim figures``). The
statistics they draw come from :mod:`normsim.analysis`; nothing here imports the runner.
:func:`plot_directory` draws what a folder's tables support, by their columns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from normsim.analysis.effects import bin_labels as binned
from normsim.analysis.effects import main_effect_spread
from normsim.plotting.patterns import ablation_heatmap, plot_ablation
from normsim.plotting.runs import adoption_order, tipping_years, trajectories
from normsim.plotting.sensitivity import sensitivity_indices
from normsim.plotting.style import FORMATS, save
from normsim.plotting.sweeps import cascade_heatmap, cascade_probability, lever_effects
from normsim.plotting.threshold import cascade_curves, cascade_window, final_sizes

__all__ = [
    "FORMATS",
    "ablation_heatmap",
    "adoption_order",
    "binned",
    "cascade_curves",
    "cascade_heatmap",
    "cascade_probability",
    "cascade_window",
    "final_sizes",
    "lever_effects",
    "main_effect_spread",
    "plot_ablation",
    "plot_directory",
    "save",
    "sensitivity_indices",
    "tipping_years",
    "trajectories",
]

EVENTS = (
    ("cascade_reached", "main_effects"),
    ("institutional_adoption", "main_effects_institutional"),
)
"""Boolean outcomes a sweep's main effects are drawn for, when its runs have them."""
WINDOW_KEYS = ("network.mean_degree", "threshold.value")
"""Sweep keys that make a cascade window (Watts 2002, Fig. 1): mean degree and threshold."""


def _columns(path: Path) -> set[str]:
    return set(pq.ParquetFile(path).schema_arrow.names)


def _window_axes(sweep: dict[str, Any]) -> tuple[str, str] | None:
    """The parameter names over mean degree and threshold, if the sweep grids both."""
    by_key = {
        p.get("key"): p["name"]
        for block in ("levers", "uncertainties")
        if sweep[block]["design"]["kind"] == "grid"
        for p in sweep[block]["parameters"]
    }
    if not all(k in by_key for k in WINDOW_KEYS):
        return None
    return by_key[WINDOW_KEYS[0]], by_key[WINDOW_KEYS[1]]


def _watts_setting(meta: dict[str, Any]) -> bool:
    """Whether Watts's cascade condition applies: Erdős–Rényi, one constant threshold."""
    data = meta["scenario_resolved"]
    network, threshold = data.get("network") or {}, data.get("threshold")
    constant = isinstance(threshold, dict) and threshold.get("distribution") == "constant"
    return network.get("generator") == "erdos_renyi" and constant and not data.get(
        "absolute_threshold"
    )


def plot_directory(directory: Path, fmt: str = "png") -> list[Path]:
    """Draw every figure that a result folder supports into ``directory/figures``.

    What is drawn follows the tables' columns. Runs over years (a region folder):
    trajectories, tipping years and adoption order, split in a sweep by the lever that
    matters most. Runs over steps (a threshold folder): the cascade curves of a run folder
    and the distribution of final sizes. A sweep folder adds the main effects of its
    parameters on each event its runs have (P(cascade), P(institutional adoption)),
    P(cascade) against the parameter that matters most, a heatmap of the two that matter
    most (or, when it grids mean degree and threshold, the cascade window instead,
    with Watts's boundary on Erdős–Rényi graphs with one constant threshold) and, after ``normsim
    sensitivity``, the sensitivity indices.
    """
    from normsim.analysis.sensitivity import read_table

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
    directory = Path(directory)
    meta = json.loads((directory / "metadata.json").read_text())
    data = meta["scenario_resolved"]
    figures = directory / "figures"
    written: list[Path] = []
    run_columns = _columns(directory / "runs.parquet")
    step_columns = _columns(directory / "steps.parquet")
    sweep = meta.get("sweep")
    blocks = ("levers", "uncertainties") if sweep else ()
    described = [p for b in blocks for p in sweep[b]["parameters"]]
    parameters = [p["name"] for p in described]
    roles = {p["name"]: p["role"] for p in described}
    yearly = "year" in step_columns and "tipping_year" in run_columns
    end = meta.get("end_year") if yearly else None
    share = meta.get("tipping_share", data.get("tipping_share"))
    if share is None and "region" in data:
        share = data["region"]["tipping_share"]
    wanted = [
        "run_id",
        *(c for c, _ in EVENTS if c in run_columns),
        *(c for c in ("tipping_year", "adoption_order", "final_adopter_share") if c in run_columns),
        *parameters,
    ]
    runs = pd.read_parquet(directory / "runs.parquet", columns=wanted)
    ranking = main_effect_spread(runs, parameters) if parameters else pd.Series(dtype=float)
    levers = [p for p in parameters if roles[p] == "lever"]
    top = next((p for p in ranking.index if p in levers), None) or next(iter(ranking.index), None)
    name = meta.get("sweep_name") or meta["scenario_name"]

    if yearly:
        start = data["start_year"]
        steps = pd.read_parquet(
            directory / "steps.parquet",
            columns=["run_id", "year", "adopter_share", "regional_stage", *([top] if top else [])],
        )
        written.append(save(
            trajectories(steps, by=top, tipping_share=share,
                         title=f"{name}: adoption and the regional life cycle"),
            figures / f"trajectories.{fmt}",
        ))
        del steps
        written.append(save(
            tipping_years(runs, by=top, start_year=start, end_year=end,
                          title=f"{name}: when does the region tip?"),
            figures / f"tipping_years.{fmt}",
        ))
    if "adoption_order" in run_columns:
        written.append(save(
            adoption_order(runs, list(data["states"]),
                           title=f"{name}: per-state adoption order ({len(runs):,} runs)"),
            figures / f"adoption_order.{fmt}",
        ))
    if not yearly:
        if not sweep:
            steps = pd.read_parquet(directory / "steps.parquet",
                                    columns=["run_id", "step", "adopter_share"])
            written.append(save(
                cascade_curves(steps, tipping_share=share, title=f"{name}: cascade curves"),
                figures / f"cascade_curves.{fmt}",
            ))
            del steps
        if "final_adopter_share" in run_columns:
            written.append(save(
                final_sizes(runs, tipping_share=share,
                            title=f"{name}: distribution of final sizes ({len(runs):,} runs)"),
                figures / f"final_sizes.{fmt}",
            ))
    if parameters:
        for outcome, stem in EVENTS:
            if outcome in run_columns:
                written.append(save(
                    lever_effects(runs, parameters, outcome=outcome, end_year=end, roles=roles),
                    figures / f"{stem}.{fmt}",
                ))
        if top:
            written.append(save(cascade_probability(runs, top, end_year=end),
                                figures / f"cascade_vs_{top}.{fmt}"))
        window = _window_axes(sweep)
        if window and "final_adopter_share" in run_columns:
            n = (data.get("network") or {}).get("n")
            written.append(save(
                cascade_window(
                    runs, *window, boundary=_watts_setting(meta), cascade_share=share,
                    title=f"{name}: the cascade window (cf. Watts 2002, Fig. 1)"
                    + (f", N = {n:,}" if n else "")
                    + f"; {runs.groupby(list(window)).size().min():,} runs per cell",
                ),
                figures / f"cascade_window.{fmt}",
            ))
        if len(ranking) >= 2 and not (window and set(ranking.index[:2]) == set(window)):
            x, y = list(ranking.index[:2])
            written.append(save(cascade_heatmap(runs, x, y, end_year=end),
                                figures / f"heatmap_{y}_{x}.{fmt}"))
    table = read_table(directory)
    if table is not None:
        written.append(save(sensitivity_indices(table), figures / f"sensitivity.{fmt}"))
    return written
