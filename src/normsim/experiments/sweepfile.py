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

Seeds (:mod:`normsim.seeds`): replicate ``r`` of point ``p`` is at position ``r % 1024`` of
the block with stream ``SeedSequence(seed, spawn_key=(p, r // 1024))``, which is
``SeedSequence(seed).spawn(n_points)[p].spawn(blocks)[r // 1024]``; the block's seed and
the position make the integer seed written in every row (:func:`normsim.seeds.run_seed`),
and ``kind.simulate(sweep.point_scenario(p), [seed])`` replays the run. A run therefore
depends on the master seed, its point and its replicate only: not on the engine, the number
of workers, the task it ran in or the order tasks finished (and more replicates later add
runs without changing the first ones).

Under a posterior (:meth:`Sweep.with_posterior`, ``normsim sweep --posterior DIR``), each
point's replicates are spread over D parameter sets drawn from a calibration's posterior
(:class:`~normsim.experiments.posterior.Draws`, drawn with the sweep's seed): replicate ``r``
of every point runs draw ``r % D``, so every point sees the same draws (common random
numbers across points), and more replicates later still leave the first ones as they were.
The draw's values are applied to the base scenario first, then the point's keys and levers
(an explicit choice wins); a sweep may not vary a fitted key itself. The run's seed is the
same as without the posterior, and ``kind.simulate(sweep.point_scenario(p, r), [seed])``
replays it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from normsim.experiments.designs import DESIGNS, Design, sample
from normsim.experiments.posterior import Draws, PosteriorError
from normsim.models import DEFAULT_KIND, ModelKind, get_kind
from normsim.scenario import Scenario, ScenarioError, load_scenario, read_yaml, resolve_path
from normsim.schema import (
    Code,
    Flag,
    Free,
    ListOf,
    MapOf,
    Num,
    Problem,
    Section,
    Tagged,
    Text,
    _Context,
    _type_name,
    _validate,
    spec_at,
)
from normsim.seeds import run_seed

Role = Literal["lever", "uncertainty"]
KINDS = {"bool": "boolean", "int": "Int64", "float": "float64", "str": "string", "json": "string"}
"""Column kind of a parameter -> pandas dtype of its column."""

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
            ``--samples``, ``--posterior``) changed it; None when it is the file's own.
        posterior: the posterior draws each point's replicates are spread over, or None.
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
    posterior: Draws | None = None

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

    def point_scenario(self, point_id: int, replicate: int | None = None) -> Scenario:
        """The scenario of one point: the base with that point's values applied.

        Under a posterior, the scenario that ``replicate`` of the point ran: the base with
        its draw's values (:meth:`draw_of`), then the point's.
        """
        base = self.base
        if self.posterior is not None and replicate is not None:
            base = self.posterior.apply(base, self.draw_of(replicate))
        return build_point(base, self.parameters, self.point_values(point_id))

    def draw_of(self, replicate: int) -> int:
        """The posterior draw that a replicate of every point runs (``replicate % D``)."""
        if self.posterior is None:
            raise ValueError("this sweep runs without a posterior")
        return replicate % len(self.posterior)

    def with_posterior(self, draws: Draws) -> Sweep:
        """The same sweep, each point's replicates spread over posterior draws.

        Raises:
            PosteriorError: the sweep varies a fitted key itself, a fitted parameter's
                name is taken by a sweep parameter or a result column, there are more
                draws than replicates, or the base scenario cannot take the draws; every
                problem named, in one line.
        """
        kind = get_kind(self.base.kind)
        fitted = dict(zip(draws.keys, draws.names, strict=True))
        problems = [f"{p.name} varies {p.target}, which the calibration fits ({fitted[p.target]})"
                    for p in self.parameters if not p.via_lever and p.target in fitted]
        taken = {p.name for p in self.parameters} | RESERVED | kind.columns | {"draw_id"}
        problems += [f"the fitted parameter {name} has the name of a column of the sweep's "
                     "tables" for name in draws.names if name in taken]
        if len(draws) > self.replicates:
            problems.append(f"--draws {len(draws)} is more than the {self.replicates} "
                            "replicates per point; each replicate runs one draw")
        problems += [f"{q.path}: {q.message}" for q in draws.check(self.base)]
        if problems:
            raise PosteriorError(f"--posterior {draws.folder}: " + "; ".join(problems))
        return replace(self, posterior=draws, origin=self.written)

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
            **({"posterior": self.posterior.describe()} if self.posterior is not None else {}),
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

_SEED = Num(None, 0, None, "The sampler's seed (default: the sweep's seed).", "sweep",
            integer=True, nullable=True)
_SAMPLES = Num(None, 1, None, "LHS points; Sobol' base samples N, a power of 2 (N(D + 2) "
               "points, N(2D + 2) with second-order indices); Morris trajectories (N(D + 1) "
               "points).", "sweep", integer=True)
DESIGN = Tagged(
    "kind",
    {
        "grid": Section({"seed": _SEED}, "Full factorial: every value of every parameter."),
        "lhs": Section({"samples": _SAMPLES, "seed": _SEED}, "Latin hypercube (scipy.stats.qmc).",
                       required=("samples",)),
        "sobol": Section({"samples": _SAMPLES, "seed": _SEED,
                          "second_order": Flag(False, "Sample for second-order indices too.",
                                               "sweep")},
                         "Saltelli's scheme on a scrambled Sobol' sequence (SALib).",
                         required=("samples",)),
        "morris": Section({"samples": _SAMPLES, "seed": _SEED,
                           "levels": Num(4, 2, None, "Morris grid levels.", "sweep",
                                         integer=True)},
                          "Elementary-effect trajectories (SALib).", required=("samples",)),
    },
    "How the block's points are chosen: a design name, or a mapping with its kind.",
    default="grid",
    bare="kind",
)
PARAMETER = Section(
    {
        "key": Text(None, "The dotted scenario key the parameter sets (default: the "
                    "parameter's name, unless that is a lever)."),
        "lever": Text(None, "A named lever of the base scenario's kind."),
        "values": Free("The values (a list): each is applied to the base scenario and "
                       "checked by its schema; a sampled design draws them uniformly.",
                       form="list"),
        "range": ListOf(Num(None, None, None, "An end of the range.", "sweep"),
                        "[low, high], numeric keys only; each end is checked by the base "
                        "scenario's schema.", length=2),
        "levels": Num(None, 2, None, "Grid points over a range (grid designs only).",
                      "sweep", integer=True),
        "doc": Text("", "What the parameter stands for and its source."),
    },
    "One varied parameter: a scenario key or a lever, over values or a range.",
    one_of=(("values", "range"),),
    exclusive=(("key", "lever"),),
)
BLOCK = Section(
    {
        "design": DESIGN,
        "parameters": MapOf(PARAMETER, "The varied parameters, by column name.",
                            NAME.pattern, "a parameter name starts with a letter and has "
                            "letters, digits, _ or . only"),
    },
    "A block of parameters with its design.",
)
SWEEP = Section(
    {
        "name": Text(None, "The sweep's name (default: the file name)."),
        "description": Text("", "What the sweep asks."),
        "scenario": Text(None, "The base scenario: a path relative to the sweep file or a "
                         "shipped scenario name."),
        "overrides": Free("Dotted scenario keys and values, applied to the base for every "
                          "point.", form="mapping", default={}),
        "seed": Num(0, 0, None, "The master seed.", "sweep", integer=True),
        "replicates": Num(100, 1, None, "Replicates per point.", "sweep", integer=True),
        "levers": BLOCK,
        "uncertainties": BLOCK,
    },
    "A sweep file: a base scenario, levers and uncertainties with their designs.",
    required=("scenario",),
)
"""The structure of a sweep file, in the scenario files' schema engine; :func:`parse_sweep`
adds the checks against the base scenario."""
assert tuple(DESIGN.variants) == DESIGNS, "a design kind without its section in DESIGN"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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


def _design(raw: dict, path: str, master: int, ctx: _Context) -> Design:
    """The validated design mapping as a :class:`Design`; a Sobol' design's power of 2."""
    kind = raw.get("kind", "grid")
    samples = raw.get("samples")
    if kind == "sobol" and _is_int(samples) and samples & (samples - 1):
        ctx.fail(f"{path}.samples", f"{samples} is not allowed; a Sobol' design needs a "
                 "power of 2 (e.g. 256, 512, 1024) to keep the sequence balanced")
    seed = raw.get("seed")
    return Design(kind, samples if kind != "grid" else None,
                  master if seed is None else seed, raw.get("second_order", False),
                  raw.get("levels", 4))


def _parameter(
    name: str,
    raw: dict,
    role: Role,
    design: Design,
    path: str,
    ctx: _Context,
    kind: ModelKind,
    base: Scenario | None,
) -> Parameter | None:
    """One validated parameter entry, checked against the kind's levers and schema."""
    where = f"{path}.{name}"
    if name in RESERVED or name in kind.columns or name.startswith("unit_"):
        ctx.fail(where, "this name is a column of the result tables; choose another")
        return None
    if raw.get("key") is not None and raw.get("lever") is not None:
        return None  # the schema said: at most one
    levers = kind.levers(base)
    lever, key = raw.get("lever"), raw.get("key")
    if lever is None and key is None:  # the name says which
        lever, key = (name, None) if name in levers else (None, name)
    if lever is not None and lever not in levers:
        allowed = ", ".join(levers) or f"none (the {kind.name} kind has no levers)"
        ctx.fail(f"{where}.lever", f"{lever!r} is not allowed; allowed: {allowed}")
        return None
    target = lever if lever is not None else key
    spec = (kind.lever_spec(base, lever) if lever is not None
            else spec_at(kind.schema, key, None if base is None else base.data))
    common = dict(name=name, role=role, target=target, via_lever=lever is not None,
                  doc=raw.get("doc", ""))
    if raw.get("values") is not None:
        values = raw["values"]
        column = _column_kind(values)
        if column is None:
            ctx.fail(f"{where}.values", "mixes kinds of values; allowed: all numbers, all "
                     "text, all true/false, or all lists/mappings (null is allowed)")
            return None
        if column == "int" and isinstance(spec, Num) and not spec.integer:
            column = "float"
        if raw.get("levels") is not None:
            ctx.fail(f"{where}.levels", "levels go with a range, not with values")
        return Parameter(**common, values=tuple(values), kind=column)
    bounds = raw.get("range")
    if not isinstance(bounds, list) or len(bounds) != 2 or None in bounds:
        return None  # the schema said what is wrong
    if not isinstance(spec, Num):
        ctx.fail(f"{where}.range", f"{target} is not a number; allowed: values instead")
        return None
    low, high = bounds
    if not low < high:
        ctx.fail(f"{where}.range", f"low ({low:g}) must be below high ({high:g}); allowed: "
                 "[low, high] with low < high")
        return None
    if spec.integer and not (float(low).is_integer() and float(high).is_integer()):
        ctx.fail(f"{where}.range", f"{target} is an integer; allowed: integer ends")
        return None
    levels = raw.get("levels")
    if design.kind == "grid" and levels is None:
        ctx.fail(f"{where}.levels", "missing; a range in a grid needs levels: an integer >= 2")
        return None
    if levels is not None and design.kind != "grid":
        ctx.fail(f"{where}.levels",
                 f"levels go with a grid; a {design.kind} design samples the range")
        return None
    return Parameter(**common, low=low, high=high, integer=spec.integer, levels=levels,
                     kind="int" if spec.integer else "float")


def _block(raw: dict, role: Role, master: int, ctx: _Context, kind: ModelKind,
           base: Scenario | None) -> Block:
    path = "levers" if role == "lever" else "uncertainties"
    design = _design(raw["design"], f"{path}.design", master, ctx)
    parameters = [_parameter(name, spec, role, design, f"{path}.parameters", ctx, kind, base)
                  for name, spec in raw["parameters"].items()]
    if design.kind != "grid" and not raw["parameters"]:
        ctx.fail(f"{path}.design", f"a {design.kind} design needs parameters")
    return Block(role, design, tuple(p for p in parameters if p is not None))


def _check_values(base: Scenario, parameters: tuple[Parameter, ...], ctx: _Context) -> None:
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
                    ctx.fail(w, f"unknown state code {v!r}; defined under states: "
                             f"{', '.join(codes)}")
            trials = [(w, v) for w, v in trials if v is None or v in codes]
        for w, v in trials:
            try:
                build_point(base, (p,), (p._store(v),))
            except ScenarioError as err:
                for q in err.problems:
                    ctx.fail(w, f"{v!r}: {q.path}: {q.message}")


def _base(data: dict, base_dir: Path | None, ctx: _Context) -> Scenario | None:
    """The base scenario with the sweep's overrides, or None (the problems recorded)."""
    if data["scenario"] is None:
        return None
    try:
        base = load_scenario(resolve_path(data["scenario"], relative_to=base_dir))
    except ScenarioError as err:
        for q in err.problems:
            ctx.fail("scenario", f"{err.file}: {q.path}: {q.message}")
        return None
    if data["overrides"]:
        try:
            return base.with_overrides(data["overrides"])
        except ScenarioError as err:
            for q in err.problems:
                ctx.fail(f"overrides ({q.path})", q.message)
            return None
    return base


def parse_sweep(
    raw: Any, source: str = "<memory>", text: str = "", base_dir: Path | None = None
) -> Sweep:
    """Validate a sweep given as a mapping; raise :class:`ScenarioError` listing problems.

    The structure is :data:`SWEEP`'s (the scenario files' schema engine); then each
    parameter is checked against the base scenario's kind and schema.

    Args:
        raw: the parsed YAML.
        source: the file it came from, named in every problem.
        text: the file's text, kept for the metadata record.
        base_dir: where a relative ``scenario`` path is looked up first.
    """
    ctx = _Context()
    if not isinstance(raw, dict):
        ctx.fail("", f"expected a mapping of keys, got {_type_name(raw)}")
        raise ScenarioError(source, ctx.problems)
    data = _validate(SWEEP, raw, "", ctx)
    base = _base(data, base_dir, ctx)
    kind = get_kind(base.kind if base is not None else DEFAULT_KIND)
    seed = data["seed"] if data["seed"] is not None else 0
    levers = _block(data["levers"], "lever", seed, ctx, kind, base)
    uncertainties = _block(data["uncertainties"], "uncertainty", seed, ctx, kind, base)
    parameters = (*levers.parameters, *uncertainties.parameters)
    seen: dict[str, str] = {}
    for p in parameters:
        if p.name in seen:
            ctx.fail(f"uncertainties.parameters.{p.name}",
                     "this name is also a lever; names must be unique")
        key = f"{'lever' if p.via_lever else 'key'}:{p.target}"
        if key in seen.values():
            ctx.fail(f"{'levers' if p.role == 'lever' else 'uncertainties'}.parameters."
                     f"{p.name}", f"{p.target} is varied twice")
        seen[p.name] = key
    sampled = ("sobol", "morris")
    if levers.design.kind in sampled and uncertainties.design.kind in sampled:
        ctx.fail("uncertainties.design", "only one block can have a sobol or morris "
                 "design: the other is crossed with it and analysed point by point")
    if base is not None:
        _check_values(base, parameters, ctx)
    if ctx.problems:
        raise ScenarioError(source, ctx.problems)
    assert base is not None
    name = data["name"] or (Path(source).stem if source != "<memory>" else "sweep")
    return Sweep(name, data["description"], source, text, base, levers, uncertainties,
                 data["seed"], data["replicates"])


def load_sweep(name: str | Path) -> Sweep:
    """Read and validate a sweep file: a path, or a shipped sweep name (``asean-levers``)."""
    path = resolve_path(name, "sweep")
    raw, text = read_yaml(path)  # the scenario files' loader: YAML 1.2 floats, no duplicates
    return parse_sweep(raw, str(path), text, path.parent)
