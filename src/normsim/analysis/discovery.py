"""Scenario discovery with PRIM: in which region of a sweep's parameters is an outcome likely?

The Patient Rule Induction Method (Friedman & Fisher 1999), as scenario discovery uses it
(Bryant & Lempert 2010), from the EMA workbench (:mod:`ema_workbench.analysis.prim`, the
optional extra ``discover``; imported only when a discovery runs). Its inputs are the
sweep's parameters, levers and uncertainties alike, read from the result folder only
(``points.parquet``, ``runs.parquet``, and ``metadata.json`` for which columns they are and
their full ranges); its outcome any boolean column of ``runs.parquet`` (``cascade_reached``,
``institutional_adoption``, ...).

Cases of interest, at either granularity:

- ``per="point"`` (the default): one case per design point; a point is of interest when the
  share of its replicates with the outcome, its P(outcome), is at least ``threshold``.
  Density then reads "share of the box's points where the outcome is likely".
- ``per="run"``: one case per run, of interest when the outcome happened (a run's
  P(outcome) is 0 or 1, so every threshold in (0, 1] gives the same cases). Density then
  reads "P(outcome) over the runs in the box".

A parameter is numeric (PRIM restricts it to a range) when the sweep declares it a number
and none of its values is missing; otherwise it is categorical (PRIM keeps a subset of its
values; a missing value, a lever left off, reads ``none``). Parameters with one value are
left out.

PRIM peels the box, step by step, trading coverage (the share of all cases of interest that
lie inside the box) for density (the share of the box's cases that are of interest); the
mass is the share of all cases inside. The chosen box is the last one on the peeling
trajectory whose coverage is at least ``min_coverage``: the densest box that still holds
that share of the cases of interest. Each restriction carries its quasi-p-value (Bryant &
Lempert 2010: a one-sided binomial test of whether lifting the restriction would lower the
density; small means the restriction matters). One box is sought: the first PRIM finds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

OUTCOME = "cascade_reached"
THRESHOLD = 0.5
MIN_COVERAGE = 0.8
GRANULARITIES = ("point", "run")
TRAJECTORY_FILE = "trajectory.csv"
BOX_FILE = "box.csv"
JSON_FILE = "discovery.json"
OUTPUT_FOLDER = "discovery"
"""Default output: a subfolder of the sweep folder (as ``figures/``), which the sweep's own
checks (reading, completeness, resume) ignore."""
MISSING = "none"
INSTALL_HINT = "scenario discovery needs the EMA workbench: pip install 'normsim[discover]'"


class DiscoveryError(Exception):
    """A folder or request that cannot be analysed: reported in one line."""


@dataclass(frozen=True)
class Parameter:
    """One input of the discovery: a sweep parameter and its full range or values."""

    name: str
    role: str
    numeric: bool
    low: float | None = None
    high: float | None = None
    values: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """As a plain mapping, for discovery.json."""
        out: dict[str, Any] = {"name": self.name, "role": self.role,
                               "type": "numeric" if self.numeric else "categorical"}
        if self.numeric:
            out.update(low=self.low, high=self.high)
        else:
            out["values"] = list(self.values)
        return out


@dataclass
class Discovery:
    """What a discovery found: the settings, the peeling trajectory and the chosen box."""

    sweep: str
    outcome: str
    threshold: float
    per: str
    min_coverage: float
    cases: int
    of_interest: int
    parameters: list[Parameter]
    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame
    horizon: str = ""
    where: dict[str, str] = field(default_factory=dict)
    levers: bool = True

    def to_json(self) -> dict[str, Any]:
        """Everything, as the mapping written to discovery.json."""
        row = self.trajectory.loc[self.chosen]
        return {
            "sweep": self.sweep,
            "outcome": self.outcome,
            "horizon": self.horizon,
            "threshold": self.threshold,
            "per": self.per,
            "min_coverage": self.min_coverage,
            "where": self.where,
            "levers": self.levers,
            "box_rule": "the last box on the peeling trajectory with coverage >= min_coverage",
            "cases": self.cases,
            "of_interest": self.of_interest,
            "parameters": [p.describe() for p in self.parameters],
            "chosen": int(self.chosen),
            "box": {
                **{k: _plain(row[k]) for k in ("coverage", "density", "mass", "res_dim", "n",
                                                "k")},
                "limits": [_limit_json(r) for r in self.limits.to_dict("records")],
            },
            "trajectory": [{k: _plain(v) for k, v in r.items()}
                           for r in self.trajectory.to_dict("records")],
        }


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python numbers, NaN as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _limit_json(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: _plain(v) for k, v in row.items() if k not in ("values", "full_values")}
    for key in ("values", "full_values"):
        out[key] = row[key].split("|") if isinstance(row[key], str) and row[key] else []
    return out


def sweep_metadata(directory: Path) -> dict[str, Any]:
    """The metadata of a complete sweep folder.

    Raises:
        DiscoveryError: the folder holds no complete sweep.
    """
    directory = Path(directory)
    meta_file = directory / "metadata.json"
    if not directory.is_dir():
        raise DiscoveryError(f"{directory}: no such folder; give a folder written by "
                             "normsim sweep")
    if not meta_file.is_file():
        raise DiscoveryError(f"{directory}: not a complete sweep (metadata.json is missing); "
                             "give a folder written by normsim sweep, or complete it with "
                             "normsim sweep --resume")
    meta = json.loads(meta_file.read_text())
    if meta.get("kind") != "sweep" or "sweep" not in meta:
        raise DiscoveryError(f"{directory}: the results of a normsim run, not of a sweep; "
                             "scenario discovery needs the points of a sweep")
    missing = [f for f in ("runs.parquet", "points.parquet", "sweep.json")
               if not (directory / f).is_file()]
    if missing:
        raise DiscoveryError(f"{directory}: not a complete sweep ({', '.join(missing)} "
                             "missing)")
    return meta


def boolean_outcomes(directory: Path) -> list[str]:
    """The boolean columns of a folder's runs table: the outcomes a discovery can take."""
    schema = pq.ParquetFile(Path(directory) / "runs.parquet").schema_arrow
    return [f.name for f in schema if str(f.type) == "bool"]


def _label(value: Any) -> str:
    """A parameter value as a categorical label: a missing value (a lever left off) ``none``."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def sweep_parameters(meta: dict[str, Any], points: pd.DataFrame) -> list[Parameter]:
    """The sweep's parameters with more than one value, numeric or categorical, in order."""
    out = []
    for block in ("levers", "uncertainties"):
        for p in meta["sweep"][block]["parameters"]:
            column = points[p["name"]]
            if column.nunique(dropna=False) < 2:
                continue
            declared = p.get("values")
            numeric = (p.get("kind") in ("float", "int") and not column.isna().any()
                       and not pd.api.types.is_bool_dtype(column)
                       and pd.api.types.is_numeric_dtype(column)
                       and (declared is None or None not in declared))
            if numeric:
                low, high = (p["range"] if "range" in p
                             else (min(declared), max(declared)) if declared
                             else (column.min(), column.max()))
                out.append(Parameter(p["name"], p["role"], True, float(low), float(high)))
            else:
                values = declared if declared is not None else list(dict.fromkeys(column))
                out.append(Parameter(p["name"], p["role"], False,
                                     values=tuple(dict.fromkeys(map(_label, values)))))
    return out


def _inputs(table: pd.DataFrame, parameters: list[Parameter]) -> pd.DataFrame:
    """The PRIM input table: numbers as numbers, categoricals as text labels."""
    columns = {}
    for p in parameters:
        values = table[p.name]
        if p.numeric:
            integer = pd.api.types.is_integer_dtype(values)
            columns[p.name] = values.astype(np.int64 if integer else np.float64).to_numpy()
        else:
            columns[p.name] = values.astype(object).map(_label).to_numpy()
    return pd.DataFrame(columns)


def _select(points: pd.DataFrame, meta: dict[str, Any], where: dict[str, str],
            directory: Path) -> pd.DataFrame:
    """The points where each named parameter has the given value (``--where NAME=VALUE``)."""
    names = [p["name"] for b in ("levers", "uncertainties") for p in meta["sweep"][b]["parameters"]]
    for name, wanted in where.items():
        if name not in names:
            raise DiscoveryError(f"{directory}: --where {name}: not a parameter of the sweep; "
                                 f"its parameters are: {', '.join(names)}")
        column = points[name]
        labels = column.astype(object).map(_label)
        keep = labels == wanted
        if not keep.any() and pd.api.types.is_numeric_dtype(column):
            with contextlib.suppress(ValueError):
                keep = pd.Series(np.isclose(column.astype(float), float(wanted)),
                                 index=column.index)
        if not keep.any():
            shown = ", ".join(dict.fromkeys(labels.sort_values() if pd.api.types
                                            .is_numeric_dtype(column) else labels))
            raise DiscoveryError(f"{directory}: --where {name}={wanted}: no point has that "
                                 f"value; its values are: {shown}")
        points = points[keep.to_numpy()]
    return points


def cases(
    directory: Path, outcome: str = OUTCOME, threshold: float = THRESHOLD, per: str = "point",
    where: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, np.ndarray, list[Parameter], dict[str, Any]]:
    """The cases of a discovery: PRIM's inputs, which are of interest, the parameters.

    ``where`` keeps only the points where each named parameter has the given value (as
    text: ``{"threshold": "0.18"}``); the parameters it fixes leave the analysis.

    Returns:
        ``(x, y, parameters, meta)``: one row of ``x`` per point (or run), ``y`` true where
        P(outcome) >= threshold (or the run's outcome happened), the :class:`Parameter` s
        and the folder's metadata.

    Raises:
        DiscoveryError: not a complete sweep, an outcome that is not a boolean column, a
            threshold outside (0, 1], or no (or only) cases of interest.
    """
    directory = Path(directory)
    if per not in GRANULARITIES:
        raise DiscoveryError(f"per must be one of {', '.join(GRANULARITIES)}, not {per!r}")
    if not 0 < threshold <= 1:  # also refuses NaN
        raise DiscoveryError(f"--threshold {threshold:g} is out of range; allowed: a share "
                             "> 0 and <= 1")
    meta = sweep_metadata(directory)
    flags = boolean_outcomes(directory)
    if outcome not in flags:
        raise DiscoveryError(f"{directory}: {outcome!r} is not a boolean column of "
                             f"runs.parquet; the boolean columns are: {', '.join(flags)}")
    points = pd.read_parquet(directory / "points.parquet")
    if where:
        points = _select(points, meta, where, directory)
    parameters = sweep_parameters(meta, points)
    if not parameters:
        raise DiscoveryError(f"{directory}: the sweep varies no parameter; nothing to discover")
    names = [p.name for p in parameters]
    if per == "point":
        runs = pd.read_parquet(directory / "runs.parquet", columns=["point_id", outcome])
        runs = runs[runs.point_id.isin(points.point_id)]
        share = runs[outcome].astype(float).groupby(runs.point_id).mean()
        points = points.set_index("point_id").loc[share.index].reset_index()
        x = _inputs(points, parameters)
        y = share.to_numpy() >= threshold
        what, probability = "point", f"P({outcome}) >= {threshold:g}"
        best = f"highest P({outcome}) {share.max():.0%}, lowest {share.min():.0%}"
    else:
        runs = pd.read_parquet(directory / "runs.parquet", columns=["point_id", *names, outcome])
        runs = runs[runs.point_id.isin(points.point_id)].reset_index(drop=True)
        x = _inputs(runs, parameters)
        y = runs[outcome].to_numpy(dtype=bool)
        what, probability = "run", f"{outcome}"
        best = f"P({outcome}) {y.mean():.0%} over the runs"
    if not y.any():
        raise DiscoveryError(f"{directory}: no {what} of the {len(y):,} has {probability} "
                             f"({best}): nothing to discover; lower --threshold or choose "
                             "another --outcome")
    if y.all():
        raise DiscoveryError(f"{directory}: every {what} of the {len(y):,} has {probability} "
                             f"({best}): nothing to tell apart; raise --threshold or choose "
                             "another --outcome")
    return x, y, parameters, meta


@contextlib.contextmanager
def _quiet_ema() -> Iterator[None]:
    """Silence the EMA workbench's import notes and deprecations of its pandas calls.

    Its loggers (``EMA.*``) stay at WARNING unless a caller set a level; warnings raised
    from its modules are ignored inside the block only.
    """
    ema = logging.getLogger("EMA")
    if ema.level == logging.NOTSET:
        ema.setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=r"ema_workbench(\.|$)")
        warnings.filterwarnings("ignore", message=r"(ipyparallel|altair)", category=Warning)
        yield


def _prim() -> Any:
    """The EMA workbench's PRIM module, imported lazily."""
    try:
        with _quiet_ema():
            from ema_workbench.analysis import prim
    except ImportError:
        raise DiscoveryError(INSTALL_HINT) from None
    return prim


def pareto_front(trajectory: pd.DataFrame) -> np.ndarray:
    """Which boxes no other box beats on both coverage and density."""
    cov, den = trajectory.coverage.to_numpy(), trajectory.density.to_numpy()
    better = ((cov[None, :] >= cov[:, None]) & (den[None, :] >= den[:, None])
              & ((cov[None, :] > cov[:, None]) | (den[None, :] > den[:, None])))
    return ~better.any(axis=1)


def _limits(box: Any, i: int, parameters: list[Parameter], x: pd.DataFrame) -> pd.DataFrame:
    """The restricted parameters of box ``i``, their limits and quasi-p-values.

    PRIM may cut between two values of a parameter; a limit is given as the nearest value
    of the cases on the inside (on a grid, a grid value).
    """
    lims, initial, qp = box.box_lims[i], box.box_lims[0], box.p_values[i]
    rows = []
    for p in parameters:
        if p.name not in lims.columns:
            continue
        low, high = lims[p.name].iloc[0], lims[p.name].iloc[1]
        p_values = [np.nan if v is None or v == -1 else float(v)
                    for v in qp.get(p.name, [-1, -1])]
        row: dict[str, Any] = {"parameter": p.name, "role": p.role,
                               "type": "numeric" if p.numeric else "categorical"}
        if p.numeric:
            lo_cut = bool(low != initial[p.name].iloc[0])
            hi_cut = bool(high != initial[p.name].iloc[1])
            if not (lo_cut or hi_cut):
                continue
            seen = np.unique(x[p.name].to_numpy(dtype=float))
            low = seen[seen >= low - 1e-12].min() if lo_cut else float(low)
            high = seen[seen <= high + 1e-12].max() if hi_cut else float(high)
            row.update(low=float(low), high=float(high), low_restricted=lo_cut,
                       high_restricted=hi_cut, values="", full_low=p.low, full_high=p.high,
                       full_values="", qp_low=p_values[0] if lo_cut else np.nan,
                       qp_high=p_values[1] if hi_cut else np.nan)
        else:
            kept = set(low)
            if kept == set(initial[p.name].iloc[0]):
                continue
            row.update(low=np.nan, high=np.nan, low_restricted=False, high_restricted=False,
                       values="|".join(v for v in p.values if v in kept),
                       full_low=np.nan, full_high=np.nan, full_values="|".join(p.values),
                       qp_low=p_values[0], qp_high=np.nan)
        rows.append(row)
    columns = ["parameter", "role", "type", "low", "high", "low_restricted",
               "high_restricted", "values", "full_low", "full_high", "full_values", "qp_low",
               "qp_high"]
    return pd.DataFrame(rows, columns=columns)


def discover(
    directory: Path,
    outcome: str = OUTCOME,
    threshold: float = THRESHOLD,
    per: str = "point",
    min_coverage: float = MIN_COVERAGE,
    mass_min: float = 0.05,
    peel_alpha: float = 0.05,
    where: dict[str, str] | None = None,
) -> Discovery:
    """Find the box of a sweep's parameters where the outcome is likely (PRIM).

    Args:
        directory: a complete sweep folder.
        outcome: a boolean column of runs.parquet.
        threshold: P(outcome) at or above which a point is of interest (``per="point"``).
        per: ``point`` (one case per design point) or ``run`` (one per run).
        min_coverage: the chosen box is the last on the trajectory with at least this
            coverage.
        mass_min: PRIM stops peeling below this share of the cases inside the box.
        peel_alpha: the share of cases PRIM peels off per step.
        where: analyse only the points where these parameters have these values (text).

    Returns:
        A :class:`Discovery`.

    Raises:
        DiscoveryError: see :func:`cases`; a ``min_coverage`` outside (0, 1]; the EMA
            workbench is not installed.
    """
    if not 0 < min_coverage <= 1:
        raise DiscoveryError(f"--min-coverage {min_coverage:g} is out of range; allowed: a "
                             "share > 0 and <= 1")
    x, y, parameters, meta = cases(directory, outcome, threshold, per, where)
    prim = _prim()
    with _quiet_ema():
        finder = prim.Prim(x, y.astype(np.int64), peel_alpha=peel_alpha, mass_min=mass_min)
        box = finder.find_box()
    if box is None:
        raise DiscoveryError(f"{directory}: PRIM found no box")
    trajectory = box.peeling_trajectory[
        ["id", "coverage", "density", "mass", "res_dim", "n", "k"]
    ].rename(columns={"id": "box"}).reset_index(drop=True)
    trajectory["box"] = trajectory["box"].astype(int)
    eligible = trajectory.index[trajectory.coverage >= min_coverage - 1e-12]
    chosen = int(eligible.max())
    trajectory["pareto"] = pareto_front(trajectory)
    trajectory["chosen"] = trajectory.index == chosen
    horizon = (f"by {meta['end_year']}" if "end_year" in meta
               else f"within {meta['steps']:,} steps" if "steps" in meta else "")
    return Discovery(
        sweep=meta.get("sweep_name", Path(directory).name), outcome=outcome,
        threshold=threshold, per=per, min_coverage=min_coverage, cases=len(y),
        of_interest=int(y.sum()), parameters=parameters, trajectory=trajectory,
        chosen=chosen, limits=_limits(box, chosen, parameters, x), horizon=horizon,
        where=dict(where or {}), levers=any(p.role == "lever" for p in parameters),
    )


def write_discovery(discovery: Discovery, folder: Path) -> list[Path]:
    """Write trajectory.csv, box.csv and discovery.json into ``folder``."""
    folder = Path(folder)
    discovery.trajectory.to_csv(folder / TRAJECTORY_FILE, index=False)
    discovery.limits.to_csv(folder / BOX_FILE, index=False)
    text = json.dumps({**discovery.to_json(), "sentences": describe(discovery.to_json())},
                      indent=2, ensure_ascii=False)
    (folder / JSON_FILE).write_text(text + "\n", encoding="utf-8")
    return [folder / TRAJECTORY_FILE, folder / BOX_FILE, folder / JSON_FILE]


def read_discovery(folder: Path) -> dict[str, Any]:
    """The discovery.json of a folder written by ``normsim discover``.

    Raises:
        DiscoveryError: the folder holds no discovery.
    """
    path = Path(folder) / JSON_FILE
    if not path.is_file():
        raise DiscoveryError(f"{folder}: no discovery here ({JSON_FILE} is missing); run "
                             "normsim discover SWEEP_DIR")
    return json.loads(path.read_text(encoding="utf-8"))


def _number(value: float) -> str:
    return f"{value:.3g}"


def _restriction(limit: dict[str, Any]) -> str:
    """One restriction in words: ``threshold at most 0.2``, ``strategy coalition or all``."""
    name = limit["parameter"]
    if limit["type"] == "categorical":
        values, full = limit["values"], limit["full_values"]
        left = [v for v in full if v not in values]
        if len(values) > 1 and len(left) < len(values):
            return f"{name} is not {_join(left, 'or')}"
        return f"{name} is {_join(values, 'or')}"
    if limit["low_restricted"] and limit["high_restricted"]:
        return f"{name} is between {_number(limit['low'])} and {_number(limit['high'])}"
    if limit["low_restricted"]:
        return f"{name} is at least {_number(limit['low'])}"
    return f"{name} is at most {_number(limit['high'])}"


def _lower(text: str) -> str:
    """A sentence's start inside another sentence (``P(...)`` keeps its capital)."""
    return text if text.startswith("P(") else text[0].lower() + text[1:]


def _join(parts: list[str], word: str = "and") -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" {word} {parts[-1]}"


def describe(discovery: dict[str, Any]) -> list[str]:
    """The chosen box in words: which levers, within which uncertainties, how good a box.

    Args:
        discovery: the mapping of discovery.json (:func:`read_discovery`, or
            :meth:`Discovery.to_json`).

    Returns:
        Sentences: the condition, then coverage, density and mass.
    """
    box, outcome = discovery["box"], discovery["outcome"]
    event = outcome.replace("_", " ") + (f" {discovery['horizon']}" if discovery.get(
        "horizon") else "")
    likely = (f"P({event}) is at least {discovery['threshold']:.0%}"
              if discovery["per"] == "point" else f"{event} happens")
    likely = likely[0].upper() + likely[1:]
    unit = "points" if discovery["per"] == "point" else "runs"
    levers = [_restriction(lim) for lim in box["limits"] if lim["role"] == "lever"]
    uncertain = [_restriction(lim) for lim in box["limits"] if lim["role"] != "lever"]
    if not levers and not uncertain:
        later = [b for b in discovery["trajectory"] if b["box"] > discovery["chosen"]]
        hint = (f" The next box, {later[0]['box']}, has coverage {later[0]['coverage']:.0%} "
                f"and density {later[0]['density']:.0%}: --min-coverage "
                f"{math.floor(later[0]['coverage'] * 100) / 100:g} chooses it." if later else "")
        return [f"No restriction keeps {discovery['min_coverage']:.0%} of the {unit} where "
                f"{_lower(likely)}: the chosen box is the whole design "
                f"(density {box['density']:.0%}).{hint}"]
    if levers and uncertain:
        condition = (f"when {_join(levers)}, provided that {_join(uncertain)}")
    elif levers:
        condition = f"when {_join(levers)}, whatever the uncertainties"
    elif discovery.get("levers", True):
        condition = f"when {_join(uncertain)} (no lever is restricted)"
    else:
        condition = f"when {_join(uncertain)}"
    fixed = discovery.get("where") or {}
    among = _join([f"{k} = {v}" for k, v in fixed.items()]) if fixed else ""
    if among:
        likely = f"Among the points where {among}, {_lower(likely)}"
    sentences = [f"{likely} (the {unit} of interest) mostly {condition}."]
    of_interest = discovery["of_interest"]
    sentences.append(
        f"The box holds {box['coverage']:.0%} of the {of_interest:,} {unit} of interest "
        f"(coverage); {box['density']:.0%} of its {box['n']:,} {unit} are of interest "
        f"(density, against {of_interest / discovery['cases']:.0%} over the whole design); "
        f"it spans {box['mass']:.0%} of the {discovery['cases']:,} {unit} (mass)."
    )
    weak = []
    for lim in box["limits"]:
        if lim["type"] == "categorical":
            if (lim.get("qp_low") or 0.0) > 0.05:
                weak.append(f"the restriction on {lim['parameter']}")
            continue
        for side, key in (("lower", "qp_low"), ("upper", "qp_high")):
            if lim.get(key) is not None and lim[key] > 0.05:
                weak.append(f"the {side} limit of {lim['parameter']}")
    if weak:
        verb = "is" if len(weak) == 1 else "are"
        sentences.append(f"{_join(weak)[0].upper()}{_join(weak)[1:]} {verb} not significant "
                         "(quasi-p-value above 0.05): lifting it would lower the density "
                         "little.")
    return sentences


def _trajectory_rows(trajectory: pd.DataFrame, most: int = 10) -> pd.DataFrame:
    """The boxes of the printed table: every k-th box and the Pareto front.

    Each is thinned to about ``most`` rows; the first, the last and the chosen box are kept.
    """

    def every(frame: pd.DataFrame) -> pd.Index:
        return frame.iloc[::max(1, math.ceil(len(frame) / most))].index
    keep = every(trajectory).union(every(trajectory[trajectory.pareto]))
    keep = keep.union(trajectory.index[[0, -1]]).union(trajectory.index[trajectory.chosen])
    return trajectory.loc[keep]


def format_report(discovery: dict[str, Any]) -> str:
    """The text ``normsim discover`` prints: the trajectory, the chosen box, the sentences."""
    traj = pd.DataFrame(discovery["trajectory"])
    box = discovery["box"]
    unit = "points" if discovery["per"] == "point" else "runs"
    criterion = (f"P({discovery['outcome']}) >= {discovery['threshold']:g}"
                 if discovery["per"] == "point" else discovery["outcome"])
    lines = [
        f"Scenario discovery (PRIM) · sweep {discovery['sweep']} · {discovery['cases']:,} "
        f"{unit}, {discovery['of_interest']:,} of interest ({criterion})"
        + "".join(f" · {k} = {v}" for k, v in (discovery.get("where") or {}).items()),
        "",
        f"Peeling trajectory: {len(traj)} boxes, coverage against density (* on the Pareto "
        "front)" + (", every few shown" if len(_trajectory_rows(traj)) < len(traj) else "")
        + ":",
        f"  {'box':>4} {'coverage':>9} {'density':>8} {'mass':>6} {'restricted':>10}",
    ]
    for _, row in _trajectory_rows(traj).iterrows():
        mark = "  <- chosen" if row.chosen else ""
        front = "*" if row.pareto else " "
        lines.append(f"  {int(row.box):>4} {row.coverage:>9.1%} {row.density:>8.1%} "
                     f"{row.mass:>6.1%} {int(row.res_dim):>10} {front}{mark}")
    lines += [
        "",
        f"Chosen box {discovery['chosen']} (the last with coverage >= "
        f"{discovery['min_coverage']:.0%}): coverage {box['coverage']:.1%}, density "
        f"{box['density']:.1%}, mass {box['mass']:.1%}, {box['n']:,} {unit} "
        f"({box['k']:,} of interest)",
    ]
    limits = box["limits"]
    if limits:
        width = max(len(lim["parameter"]) for lim in limits)
        rows = []
        for lim in limits:
            if lim["type"] == "numeric":
                inside = f"[{_number(lim['low'])}, {_number(lim['high'])}]"
                full = f"[{_number(lim['full_low'])}, {_number(lim['full_high'])}]"
                qps = [f"{side} {lim[key]:.2g}" for side, key in
                       (("low", "qp_low"), ("high", "qp_high")) if lim[key] is not None]
            else:
                inside = "{" + ", ".join(lim["values"]) + "}"
                full = "{" + ", ".join(lim["full_values"]) + "}"
                full = full if len(full) <= 22 else full[:20] + "…}"
                qps = [f"{lim['qp_low']:.2g}"] if lim["qp_low"] is not None else []
            rows.append((lim, inside, full, ", ".join(qps)))
        wide = max(10, *(len(r[1]) for r in rows))
        lines.append(f"  {'parameter':<{width}}  {'role':<11}  {'in the box':<{wide}}  "
                     f"{'full range':<22}  quasi-p")
        for lim, inside, full, qps in rows:
            lines.append(f"  {lim['parameter']:<{width}}  {lim['role']:<11}  "
                         f"{inside:<{wide}}  {full:<22}  {qps}")
    lines += ["", *discovery.get("sentences", describe(discovery))]
    return "\n".join(line.rstrip() for line in lines)
