"""Sweeps: a base scenario, the parameters to vary, a design and replicates per point.

The experiment layer keeps four things apart (STYLE habit 9, after the EMA workbench):

- **what runs**: a scenario and its replicates, through
  :func:`normsim.experiments.run_trajectories` (many replicates at once on arrays);
- **which points**: a sweep file's *levers* (what an entrepreneur or ASEAN can choose:
  framing, co-entrepreneur, strategy, intensity, UN partnership) and *uncertainties* (what
  nobody chooses: mechanism weights, crises), each block with its own design: a full
  factorial ``grid``, a Latin hypercube (``lhs``), a Sobol' (Saltelli) design (``sobol``)
  or Morris trajectories (``morris``), the last two from SALib. The points are every lever
  point crossed with every uncertainty point (EMA's policies x scenarios);
- **where it runs**: local processes (default, nothing to set up) or a Dask cluster;
- **how it is stored**: one pair of Parquet chunks per task, written atomically as tasks
  finish, consolidated into ``runs.parquet`` / ``steps.parquet`` at the end.

Sweep file (YAML)::

    name: asean-levers
    scenario: asean-2024          # base: a path relative to this file or a scenario name
    overrides: {end_year: 2035}   # dotted keys, applied to the base for every point
    seed: 2035                    # master seed
    replicates: 100               # per point
    levers:
      design: grid                # or {kind: lhs|sobol|morris, samples: N, seed: S, ...}
      parameters:
        framing: {lever: framing, values: [standard, localized]}
        intensity: {key: entrepreneurs.IDN.intensity, range: [0.1, 1.0], levels: 4}
    uncertainties:
      design: {kind: sobol, samples: 256}
      parameters:
        resistance: {key: dynamics.resistance, range: [0.05, 0.3]}

A parameter sets a dotted scenario ``key`` or a named ``lever`` (see
:data:`normsim.scenario.LEVERS`; ``null`` leaves the lever off), over ``values`` (a list)
or a ``range`` (``[low, high]``, numeric keys only; a grid needs ``levels``). Each value
and each end of each range is checked against the scenario schema by applying it to the
base scenario, so a sweep file fails before anything runs, with one line per problem.
Under a sampled design a list of values is drawn uniformly; an integer key is drawn
uniformly over its integers.

Seeds: replicate ``r`` of point ``p`` gets the stream
``SeedSequence(seed, spawn_key=(p, r))``, which is
``SeedSequence(seed).spawn(n_points)[p].spawn(replicates)[r]``; its
``generate_state(1, uint64)[0] >> 1`` is the integer seed written in every row, and
``run_trajectories(sweep.point_scenario(p), [seed])`` replays the run. A run therefore
depends on the master seed, its point and its replicate only: not on the engine, the number
of workers, the task it ran in or the order tasks finished (and more replicates later add
runs without changing the first ones).

Resume: the tasks are a fixed partition of (point, replicates) into chunks of about
``task_runs`` runs. A finished task's tables are written to ``chunks/`` under names that
carry the task id (runs last, each by temporary file and rename), so after Ctrl-C or
``kill -9`` a rerun with ``resume=True`` finds what is done and runs only the rest; the
consolidated tables equal those of an uninterrupted sweep. Local pool workers die with
the sweep's process, ``kill -9`` included (:func:`_init_worker`). The folder's manifest
records the resolved sweep at its start (design, points, replicates, task size, seed, the
base scenario's data, the file's text); a resume that asks for anything else, by an edited
file or other options, is refused and told what changed (:func:`sweep_changes`), and
metadata.json records the text the sweep started with.

Clusters: ``scheduler="tcp://host:port"`` sends the tasks to an existing Dask cluster
(``pip install 'normsim[sweep]'`` on every worker). Tasks return their tables to this
process, which writes them, so workers need no shared file system. On SLURM or PBS,
dask-jobqueue starts the workers as batch jobs::

    from dask_jobqueue import SLURMCluster   # or PBSCluster
    cluster = SLURMCluster(cores=32, processes=32, memory="64GB", walltime="02:00:00")
    cluster.scale(jobs=4)
    print(cluster.scheduler_address)         # then: normsim sweep FILE --scheduler ADDRESS
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from normsim import outdir
from normsim.experiments import run_trajectories
from normsim.norms import NORM_KEYS
from normsim.results import STAGE_NAMES, make_metadata, tables, wilson_interval
from normsim.scenario import (
    ASEAN,
    EVENT,
    LEVERS,
    ListOf,
    Num,
    Problem,
    Scenario,
    ScenarioError,
    Section,
    Spec,
    StateMap,
    lever_overrides,
    load_scenario,
    read_yaml,
    resolve_path,
)

TASK_RUNS = 1000
"""Runs per task by default: large enough to run on arrays, small enough to resume finely."""

Role = Literal["lever", "uncertainty"]
DesignKind = Literal["grid", "lhs", "sobol", "morris"]
DESIGNS: tuple[DesignKind, ...] = ("grid", "lhs", "sobol", "morris")
KINDS = {"bool": "boolean", "int": "Int64", "float": "float64", "str": "string", "json": "string"}
"""Column kind of a parameter -> pandas dtype of its column."""

TOP_KEYS = (
    "name",
    "description",
    "scenario",
    "overrides",
    "seed",
    "replicates",
    "levers",
    "uncertainties",
)
BLOCK_KEYS = ("design", "parameters")
DESIGN_KEYS = ("kind", "samples", "seed", "second_order", "levels")
PARAMETER_KEYS = ("key", "lever", "values", "range", "levels", "doc")
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
RESERVED = frozenset(
    {
        "point_id",
        "lever_point",
        "uncertainty_point",
        "run_id",
        "replicate",
        "seed",
        "cascade_reached",
        "tipping_step",
        "tipping_year",
        "peak_adopter_share",
        "final_adopter_share",
        "institutional_adoption",
        "adoption_year",
        "blockers",
        "adoption_order",
        "proposals",
        "step",
        "year",
        "adopter_share",
        "mean_support",
        "regional_stage",
        "proposal_tabled",
        *(f"n_{s}" for s in STAGE_NAMES),
        *(f"norm_{k}" for k in NORM_KEYS),
    }
)
"""Column names of the result tables, which a parameter may not take."""

LEVER_KEYS: dict[str, str] = {
    "framing": "norm.framing",
    "entrepreneur_intensity": "entrepreneurs.IDN.intensity",
    "strategy": "entrepreneurs.IDN.strategy",
    "tipping_share": "region.tipping_share",
}
"""The schema entry that says a lever's allowed values (every entrepreneur's role alike)."""


# --------------------------------------------------------------------------- sweep files


@dataclass(frozen=True)
class Parameter:
    """One varied parameter: a lever (a choice) or an uncertainty (a condition).

    Attributes:
        name: its column name in the result tables.
        role: ``lever`` or ``uncertainty`` (EMA workbench's policies vs scenarios).
        target: the dotted scenario key, or the lever's name when ``via_lever``.
        via_lever: set through :func:`normsim.scenario.lever_overrides`.
        values: the discrete values, or None for a range.
        low: lower end of a range.
        high: upper end of a range.
        integer: a range over integers (a year, a count).
        levels: grid points over a range.
        kind: column kind: bool, int, float, str or json (a list or mapping, stored as text).
        doc: what the parameter stands for and its source.
    """

    name: str
    role: Role
    target: str
    via_lever: bool = False
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False
    levels: int | None = None
    kind: str = "float"
    doc: str = ""

    def grid(self) -> list[Any]:
        """The values of a full factorial design."""
        if self.values is not None:
            return [self._store(v) for v in self.values]
        assert self.low is not None and self.high is not None and self.levels is not None
        points = np.linspace(self.low, self.high, self.levels)
        if self.integer:
            return sorted({round(float(v)) for v in points})
        return [float(v) for v in points]

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map draws in [0, 1] to values: uniform over the values, integers or the range."""
        u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        if self.values is not None:
            index = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
            return [self._store(self.values[i]) for i in index]
        assert self.low is not None and self.high is not None
        if self.integer:
            lo, hi = int(self.low), int(self.high)
            return [int(v) for v in np.minimum(lo + np.floor(u * (hi - lo + 1)), hi)]
        return [float(v) for v in self.low + u * (self.high - self.low)]

    def _store(self, value: Any) -> Any:
        """The value as its column holds it (lists and mappings as JSON text)."""
        if self.kind == "json":
            return json.dumps(value, sort_keys=True)
        if self.kind == "float" and value is not None:
            return float(value)
        return value

    def scenario_value(self, stored: Any) -> Any:
        """The value to put into the scenario, from its column's value."""
        if self.kind == "json" and stored is not None:
            return json.loads(stored)
        return stored

    def describe(self) -> dict[str, Any]:
        """The parameter as a plain mapping, for the metadata record."""
        out: dict[str, Any] = {
            "name": self.name,
            "role": self.role,
            ("lever" if self.via_lever else "key"): self.target,
            "kind": self.kind,
        }
        if self.values is not None:
            out["values"] = list(self.values)
        else:
            out.update(range=[self.low, self.high], integer=self.integer)
            if self.levels is not None:
                out["levels"] = self.levels
        if self.doc:
            out["doc"] = self.doc
        return out


@dataclass(frozen=True)
class Design:
    """How a block's points are chosen.

    Attributes:
        kind: ``grid`` (full factorial), ``lhs`` (Latin hypercube, scipy.stats.qmc),
            ``sobol`` (Saltelli's scheme on a scrambled Sobol' sequence, SALib) or
            ``morris`` (elementary-effect trajectories, SALib).
        samples: LHS points; Sobol' base samples N (a power of 2; N(D + 2) points, or
            N(2D + 2) with second-order indices); Morris trajectories (N(D + 1) points).
        seed: the sampler's seed (default: the sweep's master seed).
        second_order: Sobol' design for second-order indices too.
        levels: Morris grid levels.
    """

    kind: DesignKind = "grid"
    samples: int | None = None
    seed: int = 0
    second_order: bool = False
    levels: int = 4

    def describe(self) -> dict[str, Any]:
        """The design as a plain mapping, for the metadata record."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind != "grid":
            out.update(samples=self.samples, seed=self.seed)
        if self.kind == "sobol":
            out["second_order"] = self.second_order
        if self.kind == "morris":
            out["levels"] = self.levels
        return out


@dataclass(frozen=True)
class Block:
    """The levers or the uncertainties of a sweep, with their design."""

    role: Role
    design: Design = field(default_factory=Design)
    parameters: tuple[Parameter, ...] = ()

    def sample(self) -> tuple[list[tuple[Any, ...]], np.ndarray | None]:
        """The block's points (values in parameter order) and, if sampled, the unit draws."""
        params, d = self.parameters, self.design
        if d.kind == "grid":
            return list(itertools.product(*(p.grid() for p in params))), None
        dims = len(params)
        problem = {
            "num_vars": dims,
            "names": [p.name for p in params],
            "bounds": [[0.0, 1.0]] * dims,
        }
        if d.kind == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=dims, rng=np.random.default_rng(d.seed)).random(d.samples)
        elif d.kind == "sobol":
            from SALib.sample import sobol

            unit = sobol.sample(
                problem, d.samples, calc_second_order=d.second_order, scramble=True, seed=d.seed
            )
        else:
            from SALib.sample import morris

            unit = morris.sample(problem, d.samples, num_levels=d.levels, seed=d.seed)
        columns = [p.from_unit(unit[:, j]) for j, p in enumerate(params)]
        return list(zip(*columns, strict=True)), np.asarray(unit)


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the base scenario, levers, uncertainties, seed and replicates.

    Attributes:
        name: the sweep's name.
        description: what the sweep asks.
        source: the sweep file.
        text: the sweep file's text, for the metadata record.
        base: the base scenario with the sweep's fixed overrides applied.
        levers: the lever block.
        uncertainties: the uncertainty block.
        seed: the master seed.
        replicates: replicates per point.
        origin: the sweep as its file says, when options (``--replicates``,
            ``--samples``) changed it; None when it is the file's own.
    """

    name: str
    description: str
    source: str
    text: str
    base: Scenario
    levers: Block
    uncertainties: Block
    seed: int = 0
    replicates: int = 100
    origin: Sweep | None = field(default=None, repr=False, compare=False)

    @property
    def written(self) -> Sweep:
        """The sweep as its file says, before :meth:`with_replicates` or :meth:`with_samples`."""
        return self.origin if self.origin is not None else self

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """Every varied parameter: the levers, then the uncertainties."""
        return (*self.levers.parameters, *self.uncertainties.parameters)

    @cached_property
    def _design(self) -> tuple[list, np.ndarray | None, list, np.ndarray | None]:
        lever_points, lever_unit = self.levers.sample()
        uncertainty_points, uncertainty_unit = self.uncertainties.sample()
        return lever_points, lever_unit, uncertainty_points, uncertainty_unit

    @property
    def n_points(self) -> int:
        """Number of points: lever points x uncertainty points."""
        levers, _, uncertainties, _ = self._design
        return len(levers) * len(uncertainties)

    def point_values(self, point_id: int) -> tuple[Any, ...]:
        """The values of every parameter at a point, in :attr:`parameters` order."""
        levers, _, uncertainties, _ = self._design
        i, j = divmod(point_id, len(uncertainties))
        return (*levers[i], *uncertainties[j])

    def points(self) -> pd.DataFrame:
        """One row per point: ``point_id``, its lever and uncertainty point, the values.

        Sampled blocks add ``unit_<name>`` columns: the draws in [0, 1] that SALib's
        analyses read.
        """
        levers, lever_unit, uncertainties, uncertainty_unit = self._design
        n_l, n_u = len(levers), len(uncertainties)
        lever_point = np.repeat(np.arange(n_l), n_u)
        uncertainty_point = np.tile(np.arange(n_u), n_l)
        frame: dict[str, Any] = {
            "point_id": np.arange(n_l * n_u),
            "lever_point": lever_point,
            "uncertainty_point": uncertainty_point,
        }
        for j, p in enumerate(self.parameters):
            values = [
                (
                    levers[i][j]
                    if j < len(self.levers.parameters)
                    else uncertainties[k][j - len(self.levers.parameters)]
                )
                for i, k in zip(lever_point, uncertainty_point, strict=True)
            ]
            frame[p.name] = pd.array(values, dtype=KINDS[p.kind])
        for block, unit, index in (
            (self.levers, lever_unit, lever_point),
            (self.uncertainties, uncertainty_unit, uncertainty_point),
        ):
            if unit is not None:
                for j, p in enumerate(block.parameters):
                    frame[f"unit_{p.name}"] = unit[index, j]
        return pd.DataFrame(frame)

    def point_scenario(self, point_id: int) -> Scenario:
        """The scenario of one point: the base with that point's values applied."""
        return build_point(self.base, self.parameters, self.point_values(point_id))

    def run_seed(self, point_id: int, replicate: int) -> int:
        """The integer seed of one run (see the module docstring)."""
        return run_seed(self.seed, point_id, replicate)

    def with_replicates(self, replicates: int) -> Sweep:
        """The same sweep with another number of replicates per point."""
        return replace(self, replicates=replicates, origin=self.written)

    @property
    def samples(self) -> int | None:
        """Samples of the sweep's LHS, Sobol' or Morris design (None: grids only)."""
        sampled = [
            b.design.samples for b in (self.levers, self.uncertainties) if b.design.kind != "grid"
        ]
        return sampled[0] if sampled else None

    def with_samples(self, samples: int) -> Sweep:
        """The same sweep with another sample count for its LHS, Sobol' or Morris design.

        Raises:
            ScenarioError: the sweep has no sampled design, or a Sobol' design would not get
                a power of 2.
        """
        blocks = [b for b in (self.levers, self.uncertainties) if b.design.kind != "grid"]
        if not blocks:
            raise ScenarioError(
                self.source,
                [
                    Problem(
                        "--samples",
                        "this sweep has only grid designs; samples apply to lhs, sobol and morris",
                    )
                ],
            )
        if any(b.design.kind == "sobol" for b in blocks) and samples & (samples - 1):
            raise ScenarioError(
                self.source,
                [
                    Problem(
                        "--samples", f"{samples} is not a power of 2, which a Sobol' design needs"
                    )
                ],
            )

        def resized(block: Block) -> Block:
            if block.design.kind == "grid":
                return block
            return replace(block, design=replace(block.design, samples=samples))

        return replace(
            self,
            levers=resized(self.levers),
            uncertainties=resized(self.uncertainties),
            origin=self.written,
        )

    def describe(self) -> dict[str, Any]:
        """Everything that defines the sweep's results, as a plain mapping."""
        return {
            "name": self.name,
            "base_scenario": self.base.name,
            "base_scenario_hash": self.base.digest,
            "seed": self.seed,
            "replicates": self.replicates,
            "levers": {
                "design": self.levers.design.describe(),
                "parameters": [p.describe() for p in self.levers.parameters],
            },
            "uncertainties": {
                "design": self.uncertainties.design.describe(),
                "parameters": [p.describe() for p in self.uncertainties.parameters],
            },
        }

    @property
    def digest(self) -> str:
        """SHA-256 of :meth:`describe`: equal digests, equal runs."""
        canonical = json.dumps(self.describe(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def run_seed(master: int, point_id: int, replicate: int) -> int:
    """Seed of replicate ``replicate`` of point ``point_id``: a non-negative 63-bit int."""
    sequence = np.random.SeedSequence(master, spawn_key=(point_id, replicate))
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def build_point(base: Scenario, parameters: Iterable[Parameter], values: Iterable[Any]) -> Scenario:
    """Apply a point's values to the base scenario: dotted keys first, then the levers.

    Levers come second so that a co-entrepreneur copies the lead entrepreneur's role as
    the point's keys left it.
    """
    keys: dict[str, Any] = {}
    levers: dict[str, Any] = {}
    for p, stored in zip(parameters, values, strict=True):
        value = p.scenario_value(stored)
        if p.via_lever:
            if value is not None:
                levers[p.target] = value
        else:
            keys[p.target] = value
    scenario = base.with_overrides(keys) if keys else base
    overrides = lever_overrides(scenario, **levers)
    return scenario.with_overrides(overrides) if overrides else scenario


# --------------------------------------------------------------------------- parsing


def _type_name(value: Any) -> str:
    return {bool: "true/false", str: "text", list: "a list", dict: "a mapping"}.get(
        type(value), type(value).__name__
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Problems:
    """Collects the problems of one sweep file."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def fail(self, path: str, message: str) -> None:
        self.items.append(Problem(path or "(top level)", message))

    def unknown(self, mapping: Mapping, allowed: tuple[str, ...], path: str) -> None:
        for key in mapping:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.fail(where, f"unknown key; allowed: {', '.join(allowed)}")


def _spec_at(dotted: str) -> Spec | None:
    """The schema entry a dotted key addresses, or None if the schema cannot tell."""
    spec: Spec = ASEAN
    for part in dotted.split("."):
        match spec:
            case Section():
                if part not in spec.fields:
                    return None
                spec = spec.fields[part]
            case StateMap():
                spec = spec.value
            case ListOf() if part.isdigit():
                spec = spec.item
            case _:
                return None
    return spec


def _lever_spec(lever: str) -> Spec | None:
    """The schema entry of a named lever's value (years: an event's year)."""
    if lever in ("crisis_year", "un_push_year"):
        return EVENT.variants["crisis"].fields["year"]
    return _spec_at(LEVER_KEYS[lever]) if lever in LEVER_KEYS else None


def _column_kind(values: list[Any]) -> str | None:
    present = [v for v in values if v is not None]
    if not present:
        return "str"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if all(_is_int(v) for v in present):
        return "int"
    if all(_is_number(v) for v in present):
        return "float"
    if all(isinstance(v, str) for v in present):
        return "str"
    if all(isinstance(v, list | dict) for v in present):
        return "json"
    return None


def _parse_design(raw: Any, path: str, master: int, problems: _Problems) -> Design:
    if raw is None:
        return Design(seed=master)
    if isinstance(raw, str):
        raw = {"kind": raw}
    if not isinstance(raw, dict):
        problems.fail(
            path, f"expected one of {', '.join(DESIGNS)} or a mapping, got {_type_name(raw)}"
        )
        return Design(seed=master)
    problems.unknown(raw, DESIGN_KEYS, path)
    kind = raw.get("kind", "grid")
    if kind not in DESIGNS:
        problems.fail(f"{path}.kind", f"{kind!r} is not allowed; allowed: {', '.join(DESIGNS)}")
        return Design(seed=master)
    samples = raw.get("samples")
    if kind == "grid":
        if samples is not None:
            problems.fail(
                f"{path}.samples",
                "a grid takes no samples; give each parameter values, or a range with levels",
            )
    elif not _is_int(samples) or samples < 1:
        problems.fail(
            f"{path}.samples", f"a {kind} design needs samples: an integer >= 1, got {samples!r}"
        )
        samples = 1
    elif kind == "sobol" and samples & (samples - 1):
        problems.fail(
            f"{path}.samples",
            f"{samples} is not allowed; a Sobol' design needs a "
            "power of 2 (e.g. 256, 512, 1024) to keep the sequence balanced",
        )
    seed = raw.get("seed", master)
    if not _is_int(seed) or seed < 0:
        problems.fail(f"{path}.seed", f"expected an integer >= 0, got {seed!r}")
        seed = master
    second_order = raw.get("second_order", False)
    if not isinstance(second_order, bool):
        problems.fail(f"{path}.second_order", f"expected true or false, got {second_order!r}")
        second_order = False
    levels = raw.get("levels", 4)
    if not _is_int(levels) or levels < 2:
        problems.fail(f"{path}.levels", f"expected an integer >= 2, got {levels!r}")
        levels = 4
    return Design(kind, samples if kind != "grid" else None, seed, second_order, levels)


def _parse_parameter(
    name: Any, raw: Any, role: Role, design: Design, path: str, problems: _Problems
) -> Parameter | None:
    where = f"{path}.{name}"
    if not isinstance(name, str) or not NAME.match(name):
        problems.fail(
            where, "a parameter name starts with a letter and has letters, digits, _ or . only"
        )
        return None
    if name in RESERVED or name.startswith("unit_"):
        problems.fail(where, "this name is a column of the result tables; choose another")
        return None
    if not isinstance(raw, dict):
        problems.fail(
            where,
            f"expected a mapping with key or lever, and values or range; got {_type_name(raw)}",
        )
        return None
    problems.unknown(raw, PARAMETER_KEYS, where)
    if "key" in raw and "lever" in raw:
        problems.fail(where, "give key or lever, not both")
        return None
    lever = raw.get("lever")
    key = raw.get("key")
    if lever is None and key is None:  # the name says which
        lever, key = (name, None) if name in LEVERS else (None, name)
    if lever is not None and lever not in LEVERS:
        problems.fail(f"{where}.lever", f"{lever!r} is not allowed; allowed: {', '.join(LEVERS)}")
        return None
    if key is not None and not isinstance(key, str):
        problems.fail(f"{where}.key", f"expected a dotted scenario key, got {_type_name(key)}")
        return None
    target = lever if lever is not None else key
    spec = _lever_spec(lever) if lever is not None else _spec_at(key)
    doc = raw.get("doc", "")
    if not isinstance(doc, str):
        problems.fail(f"{where}.doc", "expected text")
        doc = ""
    has_values, has_range = "values" in raw, "range" in raw
    if has_values == has_range:
        problems.fail(where, "give values (a list) or range ([low, high]), exactly one")
        return None
    base = dict(name=name, role=role, target=target, via_lever=lever is not None, doc=doc)
    if has_values:
        values = raw["values"]
        if not isinstance(values, list) or not values:
            problems.fail(f"{where}.values", f"expected a non-empty list, got {values!r}")
            return None
        kind = _column_kind(values)
        if kind is None:
            problems.fail(
                f"{where}.values",
                "mixes kinds of values; give all numbers, all "
                "text, all true/false, or all lists/mappings (null is allowed)",
            )
            return None
        if kind == "int" and isinstance(spec, Num) and not spec.integer:
            kind = "float"
        if "levels" in raw:
            problems.fail(f"{where}.levels", "levels go with a range, not with values")
        return Parameter(**base, values=tuple(values), kind=kind)
    bounds = raw["range"]
    if not (isinstance(bounds, list) and len(bounds) == 2 and all(map(_is_number, bounds))):
        problems.fail(f"{where}.range", f"expected [low, high], two numbers; got {bounds!r}")
        return None
    if not isinstance(spec, Num):
        problems.fail(f"{where}.range", f"{target} is not a number; give values instead")
        return None
    low, high = bounds
    if not low < high:
        problems.fail(f"{where}.range", f"low ({low}) must be below high ({high})")
        return None
    if spec.integer and not (float(low).is_integer() and float(high).is_integer()):
        problems.fail(f"{where}.range", f"{target} is an integer; give integer ends")
        return None
    levels = raw.get("levels")
    if design.kind == "grid" and levels is None:
        problems.fail(f"{where}.levels", "a range in a grid needs levels: an integer >= 2")
        return None
    if levels is not None and (not _is_int(levels) or levels < 2):
        problems.fail(f"{where}.levels", f"expected an integer >= 2, got {levels!r}")
        return None
    if levels is not None and design.kind != "grid":
        problems.fail(
            f"{where}.levels", f"levels go with a grid; a {design.kind} design samples the range"
        )
        return None
    return Parameter(
        **base,
        low=low,
        high=high,
        integer=spec.integer,
        levels=levels,
        kind="int" if spec.integer else "float",
    )


def _parse_block(raw: Any, role: Role, master: int, problems: _Problems) -> Block:
    path = "levers" if role == "lever" else "uncertainties"
    if raw is None:
        return Block(role, Design(seed=master))
    if not isinstance(raw, dict):
        problems.fail(path, f"expected a mapping with design and parameters, got {_type_name(raw)}")
        return Block(role, Design(seed=master))
    problems.unknown(raw, BLOCK_KEYS, path)
    design = _parse_design(raw.get("design"), f"{path}.design", master, problems)
    raw_params = raw.get("parameters") or {}
    if not isinstance(raw_params, dict):
        problems.fail(
            f"{path}.parameters",
            f"expected a mapping of parameter names, got {_type_name(raw_params)}",
        )
        raw_params = {}
    parameters = [
        _parse_parameter(name, spec, role, design, f"{path}.parameters", problems)
        for name, spec in raw_params.items()
    ]
    if design.kind != "grid" and not raw_params:
        problems.fail(f"{path}.design", f"a {design.kind} design needs parameters")
    return Block(role, design, tuple(p for p in parameters if p is not None))


def _check_values(base: Scenario, parameters: tuple[Parameter, ...], problems: _Problems) -> None:
    """Apply every value (and both ends of every range) alone to the base scenario."""
    for p in parameters:
        block = "levers" if p.role == "lever" else "uncertainties"
        where = f"{block}.parameters.{p.name}"
        if p.values is not None:
            trials = [(f"{where}.values[{i}]", v) for i, v in enumerate(p.values)]
        else:
            trials = [(f"{where}.range[0]", p.low), (f"{where}.range[1]", p.high)]
            if p.integer:
                trials = [(w, int(v)) for w, v in trials]
        if p.target == "co_entrepreneur":
            codes = base.codes
            for w, v in trials:
                if v is not None and v not in codes:
                    problems.fail(
                        w, f"unknown state code {v!r}; defined under states: {', '.join(codes)}"
                    )
            trials = [(w, v) for w, v in trials if v is None or v in codes]
        for w, v in trials:
            try:
                build_point(base, (p,), (p._store(v),))
            except ScenarioError as err:
                for q in err.problems:
                    problems.fail(w, f"{v!r}: {q.path}: {q.message}")


def parse_sweep(
    raw: Any, source: str = "<memory>", text: str = "", base_dir: Path | None = None
) -> Sweep:
    """Validate a sweep given as a mapping; raise :class:`ScenarioError` listing problems.

    Args:
        raw: the parsed YAML.
        source: the file it came from, named in every problem.
        text: the file's text, kept for the metadata record.
        base_dir: where a relative ``scenario`` path is looked up first.
    """
    problems = _Problems()
    if not isinstance(raw, dict):
        problems.fail("", f"expected a mapping of keys, got {_type_name(raw)}")
        raise ScenarioError(source, problems.items)
    problems.unknown(raw, TOP_KEYS, "")
    seed = raw.get("seed", 0)
    if not _is_int(seed) or seed < 0:
        problems.fail("seed", f"expected an integer >= 0, got {seed!r}")
        seed = 0
    replicates = raw.get("replicates", 100)
    if not _is_int(replicates) or replicates < 1:
        problems.fail("replicates", f"expected an integer >= 1, got {replicates!r}")
        replicates = 1
    for key in ("name", "description"):
        if key in raw and not isinstance(raw[key], str):
            problems.fail(key, f"expected text, got {_type_name(raw[key])}")
    overrides = raw.get("overrides") or {}
    if not isinstance(overrides, dict):
        problems.fail(
            "overrides", f"expected a mapping of dotted scenario keys, got {_type_name(overrides)}"
        )
        overrides = {}

    base: Scenario | None = None
    scenario_name = raw.get("scenario")
    if not isinstance(scenario_name, str):
        problems.fail(
            "scenario",
            "missing; required: the base scenario, a path relative to "
            "the sweep file or a shipped scenario name",
        )
    else:
        try:
            base = load_scenario(resolve_path(scenario_name, relative_to=base_dir))
        except ScenarioError as err:
            for q in err.problems:
                problems.fail("scenario", f"{err.file}: {q.path}: {q.message}")
        if base is not None and overrides:
            try:
                base = base.with_overrides(overrides)
            except ScenarioError as err:
                for q in err.problems:
                    problems.fail(f"overrides ({q.path})", q.message)
                base = None

    levers = _parse_block(raw.get("levers"), "lever", seed, problems)
    uncertainties = _parse_block(raw.get("uncertainties"), "uncertainty", seed, problems)
    parameters = (*levers.parameters, *uncertainties.parameters)
    seen: dict[str, str] = {}
    for p in parameters:
        if p.name in seen:
            problems.fail(
                f"uncertainties.parameters.{p.name}",
                "this name is also a lever; names must be unique",
            )
        key = f"{'lever' if p.via_lever else 'key'}:{p.target}"
        if key in seen.values():
            problems.fail(
                f"{'levers' if p.role == 'lever' else 'uncertainties'}.parameters.{p.name}",
                f"{p.target} is varied twice",
            )
        seen[p.name] = key
    if levers.design.kind in ("sobol", "morris") and uncertainties.design.kind in (
        "sobol",
        "morris",
    ):
        problems.fail(
            "uncertainties.design",
            "only one block can have a sobol or morris "
            "design: the other is crossed with it and analysed point by point",
        )
    if base is not None:
        _check_values(base, parameters, problems)
    if problems.items:
        raise ScenarioError(source, problems.items)
    assert base is not None
    name = raw.get("name") or (Path(source).stem if source != "<memory>" else "sweep")
    return Sweep(
        name,
        raw.get("description", ""),
        source,
        text,
        base,
        levers,
        uncertainties,
        seed,
        replicates,
    )


def load_sweep(name: str | Path) -> Sweep:
    """Read and validate a sweep file: a path, or a shipped sweep name (``asean-levers``)."""
    path = resolve_path(name, "sweep")
    raw, text = read_yaml(path)  # the scenario files' loader: YAML 1.2 floats, no duplicates
    return parse_sweep(raw, str(path), text, path.parent)


# --------------------------------------------------------------------------- tasks


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
    """Run one task: every item's replicates on arrays, then the result tables.

    The module-level function that local processes and Dask workers call.
    """
    groups: dict[
        tuple, list[tuple[dict[str, np.ndarray], list[int], list[int], int, tuple[Any, ...]]]
    ] = {}
    for (point_id, start, stop), values in zip(spec.task.items, spec.values, strict=True):
        scenario = build_point(spec.base, spec.parameters, values)
        seeds = [run_seed(spec.master, point_id, r) for r in range(start, stop)]
        arrays = run_trajectories(scenario, seeds)
        key = (scenario.data["start_year"], arrays["stage"].shape[1], scenario.codes)
        groups.setdefault(key, []).append(
            (arrays, seeds, list(range(start, stop)), point_id, values)
        )

    run_parts, step_parts = [], []
    for (start_year, _, codes), parts in groups.items():
        arrays = {k: np.concatenate([p[0][k] for p in parts]) for k in parts[0][0]}
        seeds = [s for p in parts for s in p[1]]
        reps = [r for p in parts for r in p[2]]
        points = [p[3] for p in parts for _ in p[2]]
        values = [p[4] for p in parts for _ in p[2]]
        run_ids = [pt * spec.replicates + r for pt, r in zip(points, reps, strict=True)]
        runs, steps, _ = tables(arrays, codes, start_year, seeds, run_ids, reps, False)
        t1 = arrays["stage"].shape[1]
        run_parts.append(_with_point(runs, points, reps, values, spec.parameters, 1))
        step_parts.append(_with_point(steps, points, reps, values, spec.parameters, t1))
    runs = pd.concat(run_parts, ignore_index=True)
    steps = pd.concat(step_parts, ignore_index=True)
    if len(groups) > 1:  # points of different horizons: restore (point, replicate) order
        runs = runs.sort_values(["point_id", "replicate"], kind="stable", ignore_index=True)
        steps = steps.sort_values(
            ["point_id", "replicate", "step"], kind="stable", ignore_index=True
        )
    return TaskResult(spec.task.task_id, _parquet_bytes(runs), _parquet_bytes(steps), len(runs))


def _with_point(
    table: pd.DataFrame,
    points: list[int],
    reps: list[int],
    values: list[tuple[Any, ...]],
    parameters: tuple[Parameter, ...],
    repeat: int,
) -> pd.DataFrame:
    """Put ``point_id``, ``replicate`` and the point's values before the outcome columns.

    ``repeat`` is the number of rows per run: 1 in the runs table, T + 1 in the steps table.
    """
    front: dict[str, Any] = {
        "point_id": np.repeat(points, repeat),
        "run_id": table["run_id"].to_numpy(),
        "replicate": np.repeat(reps, repeat),
        "seed": table["seed"].array,
    }
    for j, p in enumerate(parameters):
        column = np.repeat(np.array([v[j] for v in values], dtype=object), repeat)
        front[p.name] = pd.array(column.tolist(), dtype=KINDS[p.kind])
    rest = table.drop(columns=["run_id", "replicate", "seed"], errors="ignore")
    return pd.concat([pd.DataFrame(front), rest.reset_index(drop=True)], axis=1)


# --------------------------------------------------------------------------- engines


ORPHAN_POLL_S = 0.5
"""How often a pool worker checks that the process that started it is still alive."""


def _die_with_parent() -> None:
    """Ask Linux to send this process SIGKILL when its parent dies (PR_SET_PDEATHSIG).

    Does nothing where ``prctl`` is missing (macOS, Windows): the watchdog of
    :func:`_init_worker` covers those.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _watch_parent(parent: int) -> None:
    """Exit at once when the parent is gone (this process is re-parented)."""
    while os.getppid() == parent:
        time.sleep(ORPHAN_POLL_S)
    os._exit(1)


def _init_worker(parent: int) -> None:
    """Worker initializer: leave Ctrl-C to the parent, and never outlive it.

    Ctrl-C is the parent's to handle (it cancels, then resumes). If the parent dies
    without shutting the pool down (``kill -9``, a crash), a worker waiting for its next
    task would wait forever, holding the pipe of multiprocessing's resource tracker open
    so that the tracker stays too. So the worker asks the kernel to kill it with its
    parent (Linux), and a daemon thread exits it when ``os.getppid()`` stops being
    ``parent`` (everywhere; this also catches a parent that died before the initializer
    ran). With the workers gone, the tracker sees its pipe close and exits.

    Args:
        parent: the PID of the process that started the pool.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _run_local(
    specs: Iterator[TaskSpec], workers: int, on_done: Callable[[TaskResult], None]
) -> None:
    """Local processes: a spawn-context pool, at most 2 x workers tasks in flight.

    One worker runs the tasks in this process, with nothing to start.
    """
    if workers == 1:
        for spec in specs:
            on_done(run_task(spec))
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),)
    )
    try:
        pending: set = set()
        for spec in specs:
            pending.add(pool.submit(run_task, spec))
            while len(pending) >= 2 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    on_done(future.result())
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                on_done(future.result())
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _connect(address: str) -> Any:
    """A Dask client of the scheduler at ``address`` (Dask is imported only here)."""
    try:
        from distributed import Client
    except ImportError:
        raise SweepUsageError("--scheduler needs Dask: pip install 'normsim[sweep]'") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as err:
        raise SweepUsageError(f"cannot reach the Dask scheduler at {address}: {err}") from None


def _run_dask(
    specs: Iterator[TaskSpec], client: Any, on_done: Callable[[TaskResult], None]
) -> None:
    """An existing Dask cluster; tasks return their tables here, so no shared disk is needed."""
    from distributed import as_completed

    try:
        window = 2 * max(1, sum(client.nthreads().values()))
        queue = as_completed()
        specs = iter(specs)
        for spec in itertools.islice(specs, window):
            queue.add(client.submit(run_task, spec, pure=False))
        for future in queue:
            result = future.result()
            future.release()
            on_done(result)
            nxt = next(specs, None)
            if nxt is not None:
                queue.add(client.submit(run_task, nxt, pure=False))
    finally:
        client.close()


# --------------------------------------------------------------------------- storage


class SweepUsageError(Exception):
    """A sweep that cannot start as asked (folder in use, scheduler unreachable)."""


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
        "resolved": {**sweep.describe(), "points": sweep.n_points, "task_runs": task_runs},
        "file": written.describe(),
        "base": sweep.base.data,
        "text": written.text,
        "description": written.description,
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
            yield TaskSpec(task, sweep.base, sweep.parameters, values, sweep.seed, sweep.replicates)

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
            "start_year": sweep.base.data["start_year"],
            "end_year": sweep.base.data["end_year"],
            "tipping_share": sweep.base.data["region"]["tipping_share"],
            "execution": execution,
            "files": sorted(OUTPUT_FILES),
            "seed_scheme": "replicate r of point p: numpy.random.SeedSequence(master_seed, "
            "spawn_key=(p, r)) = SeedSequence(master_seed).spawn(points)[p]"
            ".spawn(replicates)[r]; its generate_state(1, uint64)[0] >> 1 is the "
            "row's seed; run_id = p * replicates + r",
        }
    )
    _write_atomic(directory / "metadata.json", (json.dumps(meta, indent=2) + "\n").encode())
    shutil.rmtree(directory / CHUNKS, ignore_errors=True)


# --------------------------------------------------------------------------- summary


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
        points.parquet's columns plus ``runs``, ``cascade_reached`` and
        ``institutional_adoption`` (counts).
    """
    directory = Path(directory)
    points = pd.read_parquet(directory / "points.parquet")
    size = len(points)
    totals = {c: np.zeros(size) for c in ("runs", "cascade_reached", "institutional_adoption")}
    columns = ["point_id", "cascade_reached", "institutional_adoption"]
    for batch in pq.ParquetFile(directory / "runs.parquet").iter_batches(
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
    end = meta["end_year"]
    lines = [
        f"normsim {meta['normsim_version']} · sweep {meta['sweep_name']} · "
        f"{meta['points']} points x {meta['replicates']} replicates = {n:,} runs · "
        f"master seed {meta['master_seed']}"
    ]
    if wall_time is not None:
        lines.append(f"wall time {wall_time:.1f} s ({n / max(wall_time, 1e-9):,.0f} runs/s)")
    for label, column in (
        (f"P(cascade by {end})", "cascade_reached"),
        (f"P(institutional adoption by {end})", "institutional_adoption"),
    ):
        k = int(points[column].sum())
        lo, hi = wilson_interval(k, n)
        lines.append(f"{label:<38}{k / n:6.1%}   95% CI [{lo:.1%}, {hi:.1%}]")
    if names:
        effects = main_effects(points, names, count="runs")
        order = (
            effects.groupby("parameter", sort=False)["spread"].first().sort_values(ascending=False)
        )
        lines += [
            "",
            "Main effects on P(cascade), averaged over the other parameters "
            "(largest spread first):",
        ]
        for name in order.index:
            part = effects[effects.parameter == name]
            cells = "  ".join(f"{v}: {p:.1%}" for v, p in zip(part.value, part.p, strict=True))
            lines.append(f"  {name} ({roles[name]}), spread {order[name]:.1%}:  {cells}")
    return "\n".join(lines)


def default_out(sweep: Sweep) -> Path:
    """The default output folder of a sweep: ``results/<sweep name>``."""
    return Path("results") / sweep.name


def remaining_runs(directory: Path, sweep: Sweep, task_runs: int) -> int:
    """Runs still to do in an interrupted sweep folder."""
    directory = work_dir(directory)
    tasks = plan_tasks(sweep.n_points, sweep.replicates, task_runs)
    done = _done_tasks(Path(directory)) if (Path(directory) / CHUNKS).is_dir() else set()
    return sum(t.runs for t in tasks if t.task_id not in done)
