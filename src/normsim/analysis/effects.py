"""Main effects of a sweep's parameters on its outcomes, from its result folder only.

:func:`main_effects` gives the marginal probability of an outcome at each value of each
parameter, averaged over the others; :func:`point_counts` the runs and events per point;
:func:`summarize_sweep` the text ``normsim sweep`` prints. Which outcomes there are depends
on the model kind that ran: the columns of ``runs.parquet`` say.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from normsim.analysis.intervals import wilson_interval

EVENTS: dict[str, str] = {
    "cascade_reached": "P(cascade{horizon})",
    "institutional_adoption": "P(institutional adoption{horizon})",
}
"""The per-run events a summary counts, when the runs table has them, and their labels."""


def bin_labels(values: pd.Series, bins: int = 5) -> pd.Series:
    """Parameter values as labels, for grouping runs.

    A continuous parameter is cut into quantile bins labelled by the smallest and largest
    value inside (``low–high``), a lever left off (missing) reads ``none``, numbers take
    their short form.
    """
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and values.nunique() > bins:
        floats = values.astype(float)
        codes = pd.qcut(floats, bins, labels=False, duplicates="drop")
        low, high = floats.groupby(codes).min(), floats.groupby(codes).max()
        names = {c: f"{low[c]:.3g}–{high[c]:.3g}" for c in low.index}
        return codes.map(names).astype(object)
    out = values.astype(object).where(values.notna(), "none")
    return out.map(lambda v: f"{v:g}" if isinstance(v, float) else str(v))


def order_labels(labels: Iterable[Any]) -> list[Any]:
    """Order labels: ``none`` first, then numbers and bins ascending, then text.

    Text keeps the order in which it first appears: result tables list points in design
    order, so text values keep the sweep file's order.
    """
    seen = list(dict.fromkeys(labels))

    def key(v: Any) -> tuple:
        if v == "none":
            return (0, 0.0, 0)
        try:
            return (1, float(re.split(r"(?<=\d)–", str(v))[0]), 0)
        except ValueError:
            return (2, 0.0, seen.index(v))

    return sorted(seen, key=key)


def main_effects(
    runs: pd.DataFrame,
    parameters: Iterable[str],
    outcome: str = "cascade_reached",
    bins: int = 5,
    count: str | None = None,
) -> pd.DataFrame:
    """Marginal P(outcome) for each value of each parameter, averaged over the others.

    Continuous parameters are cut into ``bins`` quantile bins. The spread (largest minus
    smallest marginal probability) ranks what matters most.

    Args:
        runs: one row per run (``outcome`` true or false), or, with ``count``, one row per
            point (``outcome`` the number of runs where it happened, ``count`` of runs).
        parameters: the parameter columns.
        outcome: the outcome column.
        bins: quantile bins of a continuous parameter.
        count: the column with the number of runs per row, if rows are points.

    Returns:
        One row per (parameter, value), values in :func:`order_labels` order: parameter,
        value, runs, p, ci_low, ci_high, spread.
    """
    rows = []
    for name in parameters:
        labels = bin_labels(runs[name], bins)
        n = runs[count] if count else pd.Series(1, index=runs.index)
        stats = (
            pd.DataFrame({"k": runs[outcome].astype(float), "n": n})
            .groupby(labels, sort=False)
            .sum()
        )
        stats = stats.loc[order_labels(stats.index)]
        spread = float((stats.k / stats.n).max() - (stats.k / stats.n).min())
        for value, row in stats.iterrows():
            lo, hi = wilson_interval(int(row.k), int(row.n))
            rows.append(
                {
                    "parameter": name,
                    "value": value,
                    "runs": int(row.n),
                    "p": row.k / row.n,
                    "ci_low": lo,
                    "ci_high": hi,
                    "spread": spread,
                }
            )
    return pd.DataFrame(
        rows, columns=["parameter", "value", "runs", "p", "ci_low", "ci_high", "spread"]
    )


def point_counts(directory: Path, batch_size: int = 65536) -> pd.DataFrame:
    """Per point: its parameters, its runs, and in how many of them each event happened.

    Reads ``runs.parquet`` in batches, so memory grows with the points, not the runs.

    Returns:
        points.parquet's columns plus ``runs`` and, for each of :data:`EVENTS` that the runs
        table holds (``cascade_reached``, ``institutional_adoption``), its count.
    """
    directory = Path(directory)
    points = pd.read_parquet(directory / "points.parquet")
    size = len(points)
    runs_file = pq.ParquetFile(directory / "runs.parquet")
    events = [c for c in EVENTS if c in runs_file.schema_arrow.names]
    totals = {c: np.zeros(size) for c in ("runs", *events)}
    columns = ["point_id", *events]
    for batch in runs_file.iter_batches(
        batch_size, columns=columns
    ):
        ids = batch.column("point_id").to_numpy()
        totals["runs"] += np.bincount(ids, minlength=size)
        for name in columns[1:]:
            flags = batch.column(name).to_numpy(zero_copy_only=False).astype(float)
            totals[name] += np.bincount(ids, weights=flags, minlength=size)
    return points.assign(**{k: v.astype(np.int64) for k, v in totals.items()})


def summarize_sweep(directory: Path, wall_time: float | None = None) -> str:
    """The text summary that ``normsim sweep`` prints."""
    directory = Path(directory)
    meta = json.loads((directory / "metadata.json").read_text())
    names = [
        p["name"]
        for block in ("levers", "uncertainties")
        for p in meta["sweep"][block]["parameters"]
    ]
    roles = {
        p["name"]: p["role"]
        for block in ("levers", "uncertainties")
        for p in meta["sweep"][block]["parameters"]
    }
    points = point_counts(directory)
    n = int(points["runs"].sum())
    horizon = (f" by {meta['end_year']}" if "end_year" in meta
               else f" within {meta['steps']:,} steps")
    events = [c for c in EVENTS if c in points.columns]
    lines = [
        f"normsim {meta['normsim_version']} · sweep {meta['sweep_name']} · "
        f"{meta['points']} points x {meta['replicates']} replicates = {n:,} runs · "
        f"master seed {meta['master_seed']}"
    ]
    posterior = meta.get("posterior")
    if posterior:
        lines.append(f"under the posterior of calibration {posterior['calibration']} "
                     f"({posterior['folder']}): {posterior['draws']} draws, the same at every "
                     "point (replicate r runs draw r % draws)")
    if wall_time is not None:
        lines.append(f"wall time {wall_time:.1f} s ({n / max(wall_time, 1e-9):,.0f} runs/s)")
    for column in events:
        label = EVENTS[column].format(horizon=horizon)
        k = int(points[column].sum())
        lo, hi = wilson_interval(k, n)
        lines.append(f"{label:<38}{k / n:6.1%}   95% CI [{lo:.1%}, {hi:.1%}]")
    if names and events:
        effects = main_effects(points, names, outcome=events[0], count="runs")
        order = (
            effects.groupby("parameter", sort=False)["spread"].first().sort_values(ascending=False)
        )
        lines += [
            "",
            f"Main effects on {EVENTS[events[0]].format(horizon='')}, averaged over the "
            "other parameters (largest spread first):",
        ]
        for name in order.index:
            part = effects[effects.parameter == name]
            cells = "  ".join(f"{v}: {p:.1%}" for v, p in zip(part.value, part.p, strict=True))
            lines.append(f"  {name} ({roles[name]}), spread {order[name]:.1%}:  {cells}")
    return "\n".join(lines)



def probability_table(
    runs: pd.DataFrame, column: str, outcome: str, by: str | None = None, bins: int = 5
) -> pd.DataFrame:
    """P(outcome) per value (or bin) of ``column``, optionally split by ``by``, with 95% CIs.

    Returns:
        One row per group: the group labels (columns ``column`` and ``by``, as
        :func:`bin_labels` gives them), ``k`` (runs with the outcome), ``n`` (runs), ``p``,
        ``lo`` and ``hi`` (the Wilson interval).
    """
    keys = [bin_labels(runs[column], bins).rename(column)]
    if by:
        keys.append(bin_labels(runs[by], bins).rename(by))
    grouped = runs[outcome].astype(bool).groupby(keys, sort=False)
    table = pd.DataFrame({"k": grouped.sum(), "n": grouped.size()}).reset_index()
    table["p"] = table.k / table.n
    bounds = [wilson_interval(int(k), int(n)) for k, n in zip(table.k, table.n, strict=True)]
    table["lo"], table["hi"] = zip(*bounds, strict=True) if bounds else ([], [])
    return table


def main_effect_spread(
    runs: pd.DataFrame, parameters: Iterable[str], outcome: str = "cascade_reached",
    bins: int = 5,
) -> pd.Series:
    """Largest minus smallest marginal P(outcome) over each parameter's values (or bins).

    Returns:
        The spread per parameter, largest first: what matters most leads.
    """
    spread = {}
    for name in parameters:
        p = runs[outcome].astype(float).groupby(bin_labels(runs[name], bins)).mean()
        spread[name] = float(p.max() - p.min())
    return pd.Series(spread, dtype=float).sort_values(ascending=False)
