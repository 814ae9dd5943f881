"""Sweep files: a base scenario, the parameters to vary, a design and replicates per point.

The experiment layer keeps four things apart (STYLE habit 9, after the EMA workbench):

- **what runs**: a scenario and its replicates, through its model kind's ``simulate``
  and ``tables`` (:mod:`normsim.experiments.tasks`);
- **which points**: a sweep file's *levers* (what an entrepreneur or ASEAN can choose:
  framing, co-entrepreneur, strategy, intensity, UN partnership) and *uncertainties* (what
  nobody chooses: mechanism weights, crises), each block with its own design: a full
  factorial ``grid``, a Latin hypercube (``lhs``), a Sobol' (Saltelli) design (``sobol``)
  or Morris trajectories (``morris``), the last two from SALib
  (:mod:`normsim.experiments.designs`). The points are every lever point crossed with every
  uncertainty point (EMA's policies x scenarios);
- **where it runs**: local processes (default, nothing to set up) or a Dask cluster
  (:mod:`normsim.experiments.executors`);
- **how it is stored**: one pair of Parquet chunks per task, written atomically as tasks
  finish, consolidated into ``runs.parquet`` / ``steps.parquet`` at the end
  (:mod:`normsim.experiments.store`).

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
        intensity: {lever: entrepreneur_intensity, range: [0.1, 1.0], levels: 4}
    uncertainties:
      design: {kind: sobol, samples: 256}
      parameters:
        resistance: {key: dynamics.resistance, range: [0.05, 0.3]}

A parameter sets a dotted scenario ``key`` or a named ``lever`` of the base scenario's
model kind (``kind.levers``; the ASEAN kind's are
:data:`normsim.models.region.schema.LEVERS`; ``null`` leaves the lever off), over ``values``
(a list) or a ``range`` (``[low, high]``, numeric keys only; a grid needs ``levels``). Each value
and each end of each range is checked against the scenario schema by applying it to the
base scenario, so a sweep file fails before anything runs, with one line per problem.
Under a sampled design a list of values is drawn uniformly; an integer key is drawn
uniformly over its integers.

Seeds (:mod:`normsim.seeds`): replicate ``r`` of point ``p`` gets the stream
``SeedSequence(seed, spawn_key=(p, r))``, which is
``SeedSequence(seed).spawn(n_points)[p].spawn(replicates)[r]``; its
``generate_state(1, uint64)[0] >> 1`` is the integer seed written in every row, and
``kind.simulate(sweep.point_scenario(p), [seed])`` replays the run. A run therefore
depends on the master seed, its point and its replicate only: not on the engine, the number
of workers, the task it ran in or the order tasks finished (and more replicates later add
runs without changing the first ones).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from normsim.experiments.designs import DESIGNS, Design, sample
from normsim.models import DEFAULT_KIND, ModelKind, get_kind
from normsim.scenario import Scenario, ScenarioError, load_scenario, read_yaml, resolve_path
from normsim.schema import Code, Num, Problem, spec_at
from normsim.seeds import run_seed

Role = Literal["lever", "uncertainty"]
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
    }
)
"""Column names every sweep's tables hold; a parameter may not take them, nor the kind's
outcome columns (``kind.columns``)."""

# --------------------------------------------------------------------------- sweep files


@dataclass(frozen=True)
class Parameter:
    """One varied parameter: a lever (a choice) or an uncertainty (a condition).

    Attributes:
        name: its column name in the result tables.
        role: ``lever`` or ``uncertainty`` (EMA workbench's policies vs scenarios).
        target: the dotted scenario key, or the lever's name when ``via_lever``.
        via_lever: set through the kind's ``lever_overrides``.
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
class Block:
    """The levers or the uncertainties of a sweep, with their design."""

    role: Role
    design: Design = field(default_factory=Design)
    parameters: tuple[Parameter, ...] = ()

    def sample(self) -> tuple[list[tuple[Any, ...]], np.ndarray | None]:
        """The block's points (values in parameter order) and, if sampled, the unit draws."""
        return sample(self.design, self.parameters)


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
    overrides = get_kind(scenario.kind).lever_overrides(scenario, **levers)
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
    name: Any,
    raw: Any,
    role: Role,
    design: Design,
    path: str,
    problems: _Problems,
    kind: ModelKind,
    base: Scenario | None,
) -> Parameter | None:
    where = f"{path}.{name}"
    if not isinstance(name, str) or not NAME.match(name):
        problems.fail(
            where, "a parameter name starts with a letter and has letters, digits, _ or . only"
        )
        return None
    if name in RESERVED or name in kind.columns or name.startswith("unit_"):
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
    levers = kind.levers(base)
    lever = raw.get("lever")
    key = raw.get("key")
    if lever is None and key is None:  # the name says which
        lever, key = (name, None) if name in levers else (None, name)
    if lever is not None and lever not in levers:
        allowed = ", ".join(levers) or f"none (the {kind.name} kind has no levers)"
        problems.fail(f"{where}.lever", f"{lever!r} is not allowed; allowed: {allowed}")
        return None
    if key is not None and not isinstance(key, str):
        problems.fail(f"{where}.key", f"expected a dotted scenario key, got {_type_name(key)}")
        return None
    target = lever if lever is not None else key
    spec = kind.lever_spec(base, lever) if lever is not None else spec_at(kind.schema, key)
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


def _parse_block(
    raw: Any,
    role: Role,
    master: int,
    problems: _Problems,
    kind: ModelKind,
    base: Scenario | None,
) -> Block:
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
        _parse_parameter(name, spec, role, design, f"{path}.parameters", problems, kind, base)
        for name, spec in raw_params.items()
    ]
    if design.kind != "grid" and not raw_params:
        problems.fail(f"{path}.design", f"a {design.kind} design needs parameters")
    return Block(role, design, tuple(p for p in parameters if p is not None))


def _check_values(base: Scenario, parameters: tuple[Parameter, ...], problems: _Problems) -> None:
    """Apply every value (and both ends of every range) alone to the base scenario.

    A lever whose values are state codes is checked against the base's states first.
    """
    kind = get_kind(base.kind)
    for p in parameters:
        block = "levers" if p.role == "lever" else "uncertainties"
        where = f"{block}.parameters.{p.name}"
        if p.values is not None:
            trials = [(f"{where}.values[{i}]", v) for i, v in enumerate(p.values)]
        else:
            trials = [(f"{where}.range[0]", p.low), (f"{where}.range[1]", p.high)]
            if p.integer:
                trials = [(w, int(v)) for w, v in trials]
        if p.via_lever and isinstance(kind.lever_spec(base, p.target), Code):
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

    kind = get_kind(base.kind if base is not None else DEFAULT_KIND)
    levers = _parse_block(raw.get("levers"), "lever", seed, problems, kind, base)
    uncertainties = _parse_block(
        raw.get("uncertainties"), "uncertainty", seed, problems, kind, base
    )
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
