"""Global sensitivity analysis of a sweep: Sobol' indices, or Morris screening, with SALib.

A Sobol' sweep (Saltelli's scheme) yields first-order indices S1 (the share of an outcome's
variance due to one parameter alone) and total-order indices ST (its share with all its
interactions); a Morris sweep yields mu* (mean absolute elementary effect: importance) and
sigma (non-linearity and interactions). Confidence intervals come from SALib's bootstrap.

Outcomes, per design point, over its replicates, as the runs table's columns allow
(:func:`outcome_columns`):

- ``p_cascade``: P(cascade by the horizon), the share of replicates that reach the
  tipping share (for the region, Finnemore & Sikkink's one-third);
- ``tipping_year`` (runs over years, the region kind) or else ``tipping_step`` (the
  threshold kind): the mean time of tipping, a run that never tips counted as horizon + 1
  (right-censored; a variance decomposition needs a number at every point);
- ``p_institutional``: P(institutional adoption by consensus by the horizon), where the
  runs have it (the region kind), or else ``final_size``: the mean final adopter share
  (the threshold kind: the size of cascades, Watts 2002).

The model is stochastic: replicate noise adds variance that no parameter explains, so with
few replicates per point S1 can come out negative and ST above S1 by noise alone (SALib
#306); the intervals show it. Raise ``replicates`` or ``samples`` to narrow them.

The sampled block (levers or uncertainties) is analysed once per point of the other block:
with ``framing: [standard, localized]`` as levers, each framing gets its own indices. SALib
reads a Sobol' design by its row order, so the points are passed in ``point_id`` order.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

OUTCOMES: dict[str, str] = {
    "p_cascade": "P(cascade)",
    "tipping_year": "tipping year (censored)",
    "tipping_step": "tipping step (censored)",
    "p_institutional": "P(institutional adoption)",
    "final_size": "mean final size",
}
"""Every outcome an analysis may report, and its label, in display order."""

TABLE_FILE = "sensitivity.csv"

WIDE_INTERVAL = 0.1
"""Half-width of a Sobol' interval (share of variance) below which no warning is given."""


class SensitivityError(Exception):
    """A folder that cannot be analysed (no sweep, or not a Sobol'/Morris design)."""


def outcome_columns(columns: Iterable[str]) -> dict[str, str]:
    """The outcomes a runs table with ``columns`` supports, each with its source column.

    ``p_cascade`` always; the time of tipping in years (``tipping_year``) where the runs
    have it, else in steps (``tipping_step``); ``p_institutional`` where the runs have
    ``institutional_adoption``, else ``final_size`` from ``final_adopter_share``.
    """
    columns = set(columns)
    chosen = {"p_cascade": "cascade_reached"}
    for options in (
        (("tipping_year", "tipping_year"), ("tipping_step", "tipping_step")),
        (("p_institutional", "institutional_adoption"), ("final_size", "final_adopter_share")),
    ):
        found = next(((o, c) for o, c in options if c in columns), None)
        if found:
            chosen[found[0]] = found[1]
    return {o: chosen[o] for o in OUTCOMES if o in chosen}


def point_outcomes(runs: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Per point, the mean over its runs of each outcome of :func:`outcome_columns`.

    Args:
        runs: the runs table (``point_id`` and the outcomes' source columns).
        horizon: the last year (or step) of a run; a run that never tips counts as
            ``horizon + 1``.
    """
    frame = {"point_id": runs["point_id"].to_numpy()}
    for outcome, column in outcome_columns(runs.columns).items():
        values = runs[column]
        if outcome in ("tipping_year", "tipping_step"):
            values = values.astype("Float64").fillna(horizon + 1)
        frame[outcome] = values.to_numpy(dtype=float)
    return pd.DataFrame(frame).groupby("point_id", sort=True).mean()


def _problem(names: list[str]) -> dict[str, Any]:
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def sobol_indices(
    y: np.ndarray,
    names: list[str],
    *,
    second_order: bool = False,
    resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """First- and total-order Sobol' indices of outputs ``y`` in Saltelli-design order.

    Returns:
        One row per parameter: S1, S1_conf, ST, ST_conf (conf: half-width of the interval
        at ``conf_level``). All NaN when ``y`` does not vary.
    """
    from SALib.analyze import sobol

    y = np.asarray(y, dtype=float)
    if np.ptp(y) == 0:
        nan = np.full(len(names), np.nan)
        result = {"S1": nan, "S1_conf": nan, "ST": nan, "ST_conf": nan}
    else:
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            result = sobol.analyze(
                _problem(names),
                y,
                calc_second_order=second_order,
                num_resamples=resamples,
                conf_level=conf_level,
                seed=seed,
            )
    return pd.DataFrame(
        {
            "parameter": names,
            **{k: np.asarray(result[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")},
        }
    )


def morris_indices(
    x: np.ndarray,
    y: np.ndarray,
    names: list[str],
    *,
    levels: int = 4,
    resamples: int = 1000,
    conf_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Morris elementary-effect statistics of outputs ``y`` at unit-cube points ``x``.

    Returns:
        One row per parameter: mu, mu_star, mu_star_conf, sigma.
    """
    from SALib.analyze import morris

    y = np.asarray(y, dtype=float)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        result = morris.analyze(
            _problem(names),
            np.asarray(x, dtype=float),
            y,
            num_resamples=resamples,
            conf_level=conf_level,
            num_levels=levels,
            seed=seed,
        )
    return pd.DataFrame(
        {
            "parameter": names,
            **{
                k: np.ma.filled(np.ma.asarray(result[k], dtype=float), np.nan)
                for k in ("mu", "mu_star", "mu_star_conf", "sigma")
            },
        }
    )


def _group_label(values: pd.Series) -> str:
    if values.empty:
        return "all"
    return ", ".join(f"{k}={'none' if pd.isna(v) else v}" for k, v in values.items())


def analyze(
    directory: Path, *, resamples: int = 1000, conf_level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Sensitivity indices of a Sobol' or Morris sweep folder.

    Args:
        directory: a folder written by ``normsim sweep``.
        resamples: bootstrap resamples for the confidence intervals.
        conf_level: confidence level of the intervals.
        seed: seed of the bootstrap.

    Returns:
        A tidy table: method, group, outcome, parameter, role, then S1, S1_conf, ST,
        ST_conf (Sobol') or mu, mu_star, mu_star_conf, sigma (Morris).

    Raises:
        SensitivityError: the folder holds no finished sweep, or its design is neither
            Sobol' nor Morris.
    """
    directory = Path(directory)
    meta_file = directory / "metadata.json"
    if not meta_file.is_file() or not (directory / "points.parquet").is_file():
        raise SensitivityError(
            f"{directory}: no finished sweep here (metadata.json and "
            "points.parquet are written when a sweep completes)"
        )
    meta = json.loads(meta_file.read_text())
    blocks = meta["sweep"]
    sampled = [
        b for b in ("uncertainties", "levers") if blocks[b]["design"]["kind"] in ("sobol", "morris")
    ]
    if not sampled:
        kinds = ", ".join(
            f"{b}: {blocks[b]['design']['kind']}" for b in ("levers", "uncertainties")
        )
        raise SensitivityError(
            f"{directory}: sensitivity needs a sobol or morris design "
            f"({kinds}); see scenarios/sweeps/asean-sensitivity.yaml"
        )
    block = sampled[0]
    other = "levers" if block == "uncertainties" else "uncertainties"
    design = blocks[block]["design"]
    names = [p["name"] for p in blocks[block]["parameters"]]
    role = "lever" if block == "levers" else "uncertainty"
    group_names = [p["name"] for p in blocks[other]["parameters"]]
    own_index = "uncertainty_point" if block == "uncertainties" else "lever_point"
    group_index = "lever_point" if block == "uncertainties" else "uncertainty_point"

    points = pd.read_parquet(directory / "points.parquet")
    present = pq.ParquetFile(directory / "runs.parquet").schema_arrow.names
    sources = outcome_columns(present)
    runs = pd.read_parquet(directory / "runs.parquet", columns=["point_id", *sources.values()])
    horizon = meta["end_year"] if "tipping_year" in sources else meta["steps"]
    outcomes = point_outcomes(runs, horizon)
    table = points.join(outcomes, on="point_id")

    parts = []
    for _, group in table.groupby(group_index, sort=True):
        group = group.sort_values(own_index)
        label = _group_label(group.iloc[0][group_names])
        for outcome in sources:
            y = group[outcome].to_numpy()
            if design["kind"] == "sobol":
                frame = sobol_indices(
                    y,
                    names,
                    second_order=design.get("second_order", False),
                    resamples=resamples,
                    conf_level=conf_level,
                    seed=seed,
                )
            else:
                x = group[[f"unit_{n}" for n in names]].to_numpy()
                frame = morris_indices(
                    x,
                    y,
                    names,
                    levels=design.get("levels", 4),
                    resamples=resamples,
                    conf_level=conf_level,
                    seed=seed,
                )
            frame.insert(0, "role", role)
            frame.insert(0, "outcome", outcome)
            frame.insert(0, "group", label)
            frame.insert(0, "method", design["kind"])
            frame["points"] = len(group)
            frame["replicates"] = meta["replicates"]
            parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def format_table(table: pd.DataFrame) -> str:
    """The indices as aligned text, most influential parameter first in each block."""
    lines = []
    sobol = table["method"].iloc[0] == "sobol"
    key = "ST" if sobol else "mu_star"
    for (group, outcome), part in table.groupby(["group", "outcome"], sort=False):
        lines.append(
            f"{OUTCOMES[outcome]} · {group} · {part['points'].iloc[0]} points x "
            f"{part['replicates'].iloc[0]} replicates"
        )
        if sobol:
            lines.append(f"  {'parameter':<24}{'S1':>8}{'±':>8}{'ST':>8}{'±':>8}")
        else:
            lines.append(f"  {'parameter':<24}{'mu*':>8}{'±':>8}{'sigma':>8}")
        for _, row in part.sort_values(key, ascending=False, na_position="last").iterrows():
            if sobol:
                lines.append(
                    f"  {row.parameter:<24}{row.S1:8.3f}{row.S1_conf:8.3f}"
                    f"{row.ST:8.3f}{row.ST_conf:8.3f}"
                )
            else:
                lines.append(
                    f"  {row.parameter:<24}{row.mu_star:8.3f}{row.mu_star_conf:8.3f}"
                    f"{row.sigma:8.3f}"
                )
        lines.append("")
    return "\n".join(lines).rstrip()


def imprecise_parameters(table: pd.DataFrame, floor: float = WIDE_INTERVAL) -> list[str]:
    """Parameters with an index whose confidence interval is wider than the index itself.

    A Sobol' S1 or ST is flagged when its half-width exceeds both the index's absolute
    value and ``floor`` (a share of variance: a narrower interval still ranks the
    parameter); a Morris mu* when its half-width exceeds mu* and ``floor`` times the largest
    mu* of its outcome and group. Such an index cannot be told from zero: replicate noise or
    too few samples (SALib #306).

    Returns:
        The flagged parameters, in the table's order, each once.
    """
    if table.empty:
        return []
    if table["method"].iloc[0] == "sobol":
        wide = np.zeros(len(table), dtype=bool)
        for key in ("S1", "ST"):
            conf = table[f"{key}_conf"].to_numpy(dtype=float)
            wide |= (conf > np.abs(table[key].to_numpy(dtype=float))) & (conf > floor)
    else:
        largest = table.groupby(["group", "outcome"])["mu_star"].transform("max")
        conf = table["mu_star_conf"]
        wide = ((conf > table["mu_star"]) & (conf > floor * largest)).to_numpy()
    return list(dict.fromkeys(table.loc[wide, "parameter"]))


def precision_warning(table: pd.DataFrame) -> str | None:
    """One line naming the parameters of :func:`imprecise_parameters`, or None."""
    names = imprecise_parameters(table)
    if not names:
        return None
    sobol = table["method"].iloc[0] == "sobol"
    what = "S1 or ST" if sobol else "mu*"
    return (
        f"warning: the 95% interval of {what} is wider than the index itself for "
        f"{', '.join(names)}: these indices cannot be told from zero "
        f"({int(table['points'].iloc[0]):,} points x {int(table['replicates'].iloc[0])} "
        "replicates); rerun the sweep with more --samples (or replicates)"
    )


def write_table(directory: Path, table: pd.DataFrame) -> Path:
    """Write the indices to ``sensitivity.csv`` in the sweep folder (atomically)."""
    from normsim.outdir import atomic_file

    path = Path(directory) / TABLE_FILE
    with atomic_file(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    return path


def read_table(directory: Path) -> pd.DataFrame | None:
    """The indices written by :func:`write_table`, or None."""
    path = Path(directory) / TABLE_FILE
    return pd.read_csv(path) if path.is_file() else None
