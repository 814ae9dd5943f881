"""Calibration by approximate Bayesian computation (ABC-SMC, through pyabc).

A calibration file names a base scenario, a pattern file whose patterns of that scenario
are the targets, the parameters to fit with their priors, and the sampler's settings::

    name: asean-history
    scenario: asean-2003          # base: a path relative to this file or a shipped name
    targets: asean-history        # a pattern file: shipped name or path
    parameters:
      resistance: {key: dynamics.resistance, uniform: [0.075, 0.3]}
      sgp_support: {key: states.SGP.support, normal: [0.05, 0.03]}   # mean, sd; truncated
    distance: mismatches          # number of target patterns a simulated run fails
    population: 1000              # particles per generation
    epsilons: [4, 2, 1, 0]        # optional list schedule; default: pyabc's median quantile
    stop: {generations: 6, min_epsilon: 0, min_acceptance: 0.005}
    replicates_per_particle: 1
    seed: 2003

Each particle simulates ``replicates_per_particle`` runs of the base scenario with the
particle's values applied (:meth:`Scenario.with_overrides`) and its distance is the mean
number of fitted target patterns the runs fail (a pattern with no value in a run counts as
failed; :func:`mismatches`, sum |x - x0|, also takes synthetic records with misses).
With one run per particle and epsilon 0, a particle is accepted exactly when its run
reproduces the whole history, so the accepted particles are draws from
prior x P(history | theta): for these binary data ABC at epsilon 0 is exact.

``targets`` may split the pattern file's patterns: ``targets: {file: asean-history,
holdout_after: 2014}`` fits the patterns that read no year after 2014 and *predicts* the
others (held out: every particle simulates them, the distance ignores them; the outputs
add ``holdout.csv``, :func:`holdout`), as do ``fit: [ids]`` and ``predict: [ids]``;
``targets.scenario`` names whose patterns are the targets when the base scenario has
another name (a null model that extends asean-2003).

A file with ``models: [FILE, ...]`` is a model choice (:class:`ModelChoice`): calibration
files with the same targets, fitted at once by pyabc with a model index under a uniform
model prior; the outputs are the models' posterior probabilities per generation
(``model_probabilities.csv``), a direct check of them by prior simulation
(``model_evidence.csv``, :func:`model_evidence`) and each model's particles. Parameter
recovery on synthetic records is :mod:`normsim.experiments.recovery`.

Priors: ``uniform: [lo, hi]``, or ``normal: [mean, sd]`` truncated to the key's range in
the scenario schema (and to ``range: [lo, hi]`` if given). Both ends of each prior's
support are applied to the base scenario, so a file fails before anything runs, with one
line per problem.

Seeds. The run seed of a simulation is derived from the calibration seed and the
particle's parameter values (:func:`particle_seed`), so a particle's simulation replays
from its values alone, on any worker. pyabc draws the particles from numpy's global random
state: ``calibrate`` seeds it once with the calibration seed, which makes a calibration on
one worker (pyabc's single-core sampler) reproducible; pyabc's multi-process and Dask
samplers reseed every worker from the operating system's entropy, so which particles are
proposed (and the posterior sample) is not reproducible with ``--workers`` > 1 or
``--scheduler``, only each particle's simulation given its values.

Outputs (``DIR``): ``history.db`` (pyabc's SQLite history, written during the run; ``--resume``
continues it), ``calibration.json`` (the file's hash, written first, checked on resume),
and at the end ``posterior.parquet``, ``diagnostics.csv``, ``predictive.csv``, figures and
``metadata.json`` (written last: its presence marks a finished calibration). With
``overwrite``, a folder that holds results keeps them readable until the new calibration is
complete: it is built in ``DIR/.pending`` and swapped in whole (an interrupted one is
resumed there with ``--resume``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from normsim import __version__, outdir
from normsim.analysis.intervals import wilson_interval
from normsim.analysis.patterns import matches
from normsim.experiments.patterns import Pattern, load_patterns
from normsim.experiments.replicates import run_scenario
from normsim.models import get_kind
from normsim.scenario import Scenario, ScenarioError, load_scenario, read_yaml, resolve_path
from normsim.schema import (
    Choice,
    Free,
    ListOf,
    MapOf,
    Num,
    Problem,
    Section,
    Text,
    _Context,
    _type_name,
    _validate,
    spec_at,
)
from normsim.seeds import replicate_seeds, run_seed

_BOUNDS = ListOf(Num(None, None, None, "A number."), "[low, high].", length=2)
PARAMETER = Section(
    {
        "key": Text(None, "The dotted scenario key."),
        "uniform": _BOUNDS,
        "normal": ListOf(Num(None, None, None, "A number."), "[mean, sd], truncated to the "
                         "key's schema range (and to `range`).", length=2),
        "range": _BOUNDS,
        "doc": Text("", "What the parameter stands for and its source."),
    },
    "A fitted parameter: its scenario key and prior.",
    required=("key",),
    one_of=(("uniform", "normal"),),
)
STOP = Section(
    {
        "generations": Num(None, 1, None, "Stop after this many generations.", "calibration",
                           integer=True, nullable=True),
        "min_epsilon": Num(None, 0, None, "Stop once epsilon is at most this.", "calibration",
                           nullable=True),
        "min_acceptance": Num(None, 0, 1, "Stop once a generation's acceptance rate falls "
                              "below this.", "calibration", nullable=True),
    },
    "When the sampler stops (any rule that is met).",
)
_IDS = ListOf(Text(None, "A pattern id of the pattern file."), "Pattern ids.")
TARGETS = Section(
    {
        "file": Text(None, "The pattern file: a shipped name or a path."),
        "scenario": Text(None, "The scenario whose patterns are the targets, by name (default: "
                         "the base scenario's name)."),
        "fit": _IDS,
        "predict": _IDS,
        "holdout_after": Num(None, 1900, 2300, "Fit the patterns that read no year after "
                             "this one; predict the others (a hold-out).", "calibration",
                             integer=True),
    },
    "The targets: a pattern file (`targets: NAME` is `targets: {file: NAME}`); `fit` and "
    "`predict` (or `holdout_after`) split its patterns into fitted and held-out ones.",
    required=("file",),
    exclusive=(("holdout_after", "fit"), ("holdout_after", "predict")),
)
CALIBRATION = Section(
    {
        "name": Text(None, "The calibration's name (default: the file name)."),
        "description": Text("", "What is fitted to what."),
        "scenario": Text(None, "The base scenario: a path relative to this file or a shipped "
                         "name."),
        "overrides": Free("Dotted scenario keys applied to the base.", form="mapping",
                          default={}),
        "targets": TARGETS,
        "parameters": MapOf(PARAMETER, "The fitted parameters, by name."),
        "distance": Choice(("mismatches",), "mismatches", "The distance: the number of "
                           "target patterns a simulated run fails.", "calibration"),
        "population": Num(1000, 2, None, "Particles per generation.", "calibration",
                          integer=True),
        "epsilons": ListOf(Num(None, 0, None, "An epsilon."), "A list schedule of epsilons "
                           "(default: pyabc's median quantile epsilon)."),
        "stop": STOP,
        "replicates_per_particle": Num(1, 1, None, "Runs per particle; the distance is their "
                                       "mean number of mismatches.", "calibration",
                                       integer=True),
        "seed": Num(0, 0, None, "The calibration seed.", "calibration", integer=True),
    },
    "A calibration file: base scenario, targets, parameters with priors, sampler settings.",
    required=("scenario", "targets", "parameters"),
)
"""The structure of a calibration file, in the scenario files' schema engine."""


@dataclass(frozen=True)
class Prior:
    """One fitted parameter and its prior."""

    name: str
    key: str
    kind: str  # uniform | normal
    a: float  # uniform: low; normal: mean
    b: float  # uniform: high; normal: sd
    low: float  # support
    high: float
    doc: str = ""

    def rv(self) -> Any:
        """The pyabc random variable of the prior."""
        import pyabc

        if self.kind == "uniform":
            return pyabc.RV("uniform", self.low, self.high - self.low)
        lo, hi = (self.low - self.a) / self.b, (self.high - self.a) / self.b
        return pyabc.RV("truncnorm", lo, hi, loc=self.a, scale=self.b)

    def draw(self, rng: np.random.Generator) -> float:
        """One value from the prior, drawn with ``rng`` (synthetic data, parameter recovery)."""
        if self.kind == "uniform":
            return float(rng.uniform(self.low, self.high))
        from scipy import stats

        lo, hi = (self.low - self.a) / self.b, (self.high - self.a) / self.b
        return float(stats.truncnorm(lo, hi, loc=self.a, scale=self.b).rvs(random_state=rng))

    def sd(self) -> float:
        """The prior's standard deviation (what recovery compares the posterior's with)."""
        if self.kind == "uniform":
            return (self.high - self.low) / math.sqrt(12.0)
        from scipy import stats

        lo, hi = (self.low - self.a) / self.b, (self.high - self.a) / self.b
        return float(stats.truncnorm(lo, hi, loc=self.a, scale=self.b).std())

    def describe(self) -> dict[str, Any]:
        """The prior as a plain mapping (metadata.json; the plots read it)."""
        return {"name": self.name, "key": self.key, "kind": self.kind, "a": self.a,
                "b": self.b, "low": self.low, "high": self.high, "doc": self.doc}


@dataclass(frozen=True)
class Calibration:
    """A validated calibration file.

    ``targets`` are every pattern a particle's runs are scored on: the fitted ones, then the
    held-out ones (``predict``, ids), which are simulated and stored but not fitted.
    """

    name: str
    description: str
    source: str
    text: str
    base: Scenario
    targets: tuple[Pattern, ...]
    targets_source: str
    targets_text: str
    priors: tuple[Prior, ...]
    population: int
    epsilons: tuple[float, ...] | None
    generations: int | None
    min_epsilon: float | None
    min_acceptance: float | None
    replicates_per_particle: int
    seed: int
    distance: str = "mismatches"
    extra: dict[str, Any] = field(default_factory=dict)
    predict: tuple[str, ...] = ()
    targets_scenario: str = ""

    @property
    def fit(self) -> tuple[str, ...]:
        """The ids of the fitted targets (every target not held out)."""
        return tuple(p.id for p in self.targets if p.id not in self.predict)

    def observed(self) -> dict[str, float]:
        """The observed data of the fitted targets: every one matches (1)."""
        return {k: 1.0 for k in self.fit}

    @property
    def digest(self) -> str:
        """SHA-256 of the files, the base scenario and the budget (resizable by options)."""
        h = hashlib.sha256()
        budget = f"{self.population} {self.generations}"
        for part in (self.text, self.targets_text, self.base.digest, budget):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    def scenario(self, theta: dict[str, float]) -> Scenario:
        """The base scenario with a particle's values applied."""
        return self.base.with_overrides({p.key: float(theta[p.name]) for p in self.priors})

    def describe(self) -> dict[str, Any]:
        """Everything that defines the calibration's results."""
        return {
            "name": self.name, "source": self.source, "base_scenario": self.base.name,
            "targets": [p.id for p in self.targets], "targets_file": self.targets_source,
            "fit": list(self.fit), "predict": list(self.predict),
            "targets_scenario": self.targets_scenario or self.base.name,
            "priors": [p.describe() for p in self.priors], "population": self.population,
            "epsilons": list(self.epsilons) if self.epsilons else "quantile (median)",
            "stop": {"generations": self.generations, "min_epsilon": self.min_epsilon,
                     "min_acceptance": self.min_acceptance},
            "replicates_per_particle": self.replicates_per_particle, "seed": self.seed,
            "distance": self.distance,
        }


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def parse_calibration(raw: Any, source: str = "<memory>", text: str = "",
                      base_dir: Path | None = None) -> Calibration:
    """Validate a calibration given as a mapping; raise :class:`ScenarioError` listing problems.

    Args:
        raw: the parsed YAML.
        source: the file it came from, named in every problem.
        text: the file's text, for the hash and the metadata.
        base_dir: where relative ``scenario`` and ``targets`` paths are looked up first.
    """
    ctx = _Context()
    if not isinstance(raw, dict):
        ctx.fail("", f"expected a mapping of keys, got {_type_name(raw)}")
        raise ScenarioError(source, ctx.problems)
    if isinstance(raw.get("targets"), str):  # targets: NAME is targets: {file: NAME}
        raw = {**raw, "targets": {"file": raw["targets"]}}
    data = _validate(CALIBRATION, raw, "", ctx)
    base = None
    if data.get("scenario") is not None:
        try:
            base = load_scenario(resolve_path(data["scenario"], relative_to=base_dir))
            if data["overrides"]:
                base = base.with_overrides(data["overrides"])
        except ScenarioError as err:
            for q in err.problems:
                ctx.fail("scenario", f"{err.file}: {q.path}: {q.message}")
            base = None
    targets, predict, targets_source, targets_text, of = _targets(
        data.get("targets"), base, base_dir, ctx)
    priors: list[Prior] = []
    for name, p in (data.get("parameters") or {}).items():
        where = f"parameters.{name}"
        if p is None or p.get("key") is None:
            continue
        spec = spec_at(_schema(base), p["key"], base.data) if base is not None else None
        if base is not None and spec is None:
            try:
                base.with_overrides({p["key"]: 0.0})
            except ScenarioError as err:
                for q in err.problems:
                    ctx.fail(f"{where}.key", f"{q.path}: {q.message}")
                continue
        lo_s = getattr(spec, "lo", None)
        hi_s = getattr(spec, "hi", None)
        if p.get("uniform") is not None:
            lo, hi = p["uniform"]
            if not lo < hi:
                ctx.fail(f"{where}.uniform", f"low {lo} must be below high {hi}")
                continue
            prior = Prior(name, p["key"], "uniform", lo, hi, lo, hi, p["doc"])
        elif p.get("normal") is not None:
            mean, sd = p["normal"]
            if not sd > 0:
                ctx.fail(f"{where}.normal", f"sd {sd} must be positive")
                continue
            lo, hi = p.get("range") or (None, None)
            lo = lo_s if lo is None else lo
            hi = hi_s if hi is None else hi
            if lo is None or hi is None or not math.isfinite(lo) or not math.isfinite(hi):
                ctx.fail(f"{where}.range", "the key's schema range is open; give range: "
                         "[low, high] to truncate the normal prior")
                continue
            prior = Prior(name, p["key"], "normal", mean, sd, lo, hi, p["doc"])
        else:
            continue
        if base is not None:
            for end, value in (("low", prior.low), ("high", prior.high)):
                try:
                    base.with_overrides({prior.key: float(value)})
                except ScenarioError as err:
                    for q in err.problems:
                        ctx.fail(f"{where} ({end} end {value!r})", f"{q.path}: {q.message}")
        priors.append(prior)
    if not data.get("parameters") and "parameters" in raw:
        ctx.fail("parameters", "give at least one parameter")
    stop = data["stop"] or {}
    if not data["epsilons"] and all(stop.get(k) is None for k in
                                    ("generations", "min_epsilon", "min_acceptance")):
        ctx.fail("stop", "give a stop rule: generations, min_epsilon or min_acceptance")
    if ctx.problems:
        raise ScenarioError(source, ctx.problems)
    assert base is not None
    name = data["name"] or (Path(source).stem if source != "<memory>" else "calibration")
    return Calibration(
        name, data["description"], source, text, base, targets, targets_source, targets_text,
        tuple(priors), data["population"],
        tuple(data["epsilons"]) if data["epsilons"] else None,
        stop.get("generations"), stop.get("min_epsilon"), stop.get("min_acceptance"),
        data["replicates_per_particle"], data["seed"], data["distance"], predict=predict,
        targets_scenario=of)


def last_year(statistic: dict[str, Any]) -> int | None:
    """The last calendar year a pattern's statistic reads (None: it reads the whole run).

    What ``targets.holdout_after`` splits by: a pattern whose last year is at most the
    hold-out year is fitted, the others are predicted.
    """
    match statistic.get("kind"):
        case "summit":
            return max(statistic.get("years") or [statistic["year"]])
        case "adopters":
            return statistic["year"]
        case "version_adopted":
            return statistic["by"] if statistic.get("by") is not None else statistic["between"][1]
        case "regional_stage":
            return (statistic["year"] if statistic.get("year") is not None
                    else statistic["never_tipped_by"])
        case "support_broader":
            return max(statistic["earlier"], statistic["later"])
    return None


def _targets(spec: dict[str, Any] | None, base: Scenario | None, base_dir: Path | None,
             ctx: _Context) -> tuple[tuple[Pattern, ...], tuple[str, ...], str, str, str]:
    """The targets of a calibration: (patterns, held-out ids, file, its text, scenario)."""
    if not spec or spec.get("file") is None:
        return (), (), "", "", ""
    try:
        pset = load_patterns(resolve_path(spec["file"], "patterns", relative_to=base_dir))
    except ScenarioError as err:
        for q in err.problems:
            ctx.fail("targets", f"{err.file}: {q.path}: {q.message}")
        return (), (), "", "", ""
    source, text = pset.source, pset.text
    if base is None:
        return (), (), source, text, ""
    of = spec.get("scenario") or base.name
    mine = [p for p in pset.patterns if p.scenario.name == of]
    if not mine:
        names = ", ".join(dict.fromkeys(p.scenario.name for p in pset.patterns))
        ctx.fail("targets.scenario" if spec.get("scenario") else "targets",
                 f"{pset.name} has no pattern of the scenario {of}; its patterns are of: "
                 f"{names} (targets.scenario names the one to fit)")
        return (), (), source, text, of
    ids = [p.id for p in mine]
    others = {p.id: p.scenario.name for p in pset.patterns if p.scenario.name != of}
    fit, predict = list(spec.get("fit") or []), list(spec.get("predict") or [])
    bad = False
    for where, listed in (("fit", fit), ("predict", predict)):
        for i, pid in enumerate(listed):
            if pid not in ids:
                elsewhere = (f" (it is a pattern of {others[pid]})" if pid in others else "")
                ctx.fail(f"targets.{where}[{i}]", f"unknown pattern {pid!r}{elsewhere}; "
                         f"patterns of {of}: {', '.join(ids)}")
                bad = True
            elif listed.index(pid) != i:
                ctx.fail(f"targets.{where}[{i}]", f"{pid!r} is listed twice")
                bad = True
    for i, pid in enumerate(predict):
        if pid in fit:
            ctx.fail(f"targets.predict[{i}]", f"{pid!r} is also in fit: a target is fitted "
                     "or predicted, not both")
            bad = True
    year = spec.get("holdout_after")
    if year is not None:
        fit = [p.id for p in mine if (y := last_year(p.statistic)) is not None and y <= year]
        predict = [pid for pid in ids if pid not in fit]
        if not fit:
            ctx.fail("targets.holdout_after", f"no pattern of {of} reads only years up to "
                     f"{year}: nothing to fit")
        elif not predict:
            ctx.fail("targets.holdout_after", f"every pattern of {of} reads only years up "
                     f"to {year}: nothing to predict")
    elif not fit:
        fit = [pid for pid in ids if pid not in predict]
        if not fit and not bad:
            ctx.fail("targets.predict", "every target is held out: leave at least one to fit")
    chosen = set(fit) | set(predict)
    targets = tuple(p for p in mine if p.id in chosen)
    return targets, tuple(pid for pid in ids if pid in predict), source, text, of


def _schema(base: Scenario) -> Any:
    from normsim.models import get_kind

    return get_kind(base.kind).schema


def load_calibration(name: str | Path) -> Calibration | ModelChoice:
    """Read and validate a calibration file: a path or a shipped name (``asean-history``).

    A file with ``models:`` is a model choice (:class:`ModelChoice`), any other a
    :class:`Calibration`.
    """
    path = resolve_path(name, "calibration")
    raw, text = read_yaml(path)
    if isinstance(raw, dict) and "models" in raw:
        return parse_model_choice(raw, str(path), text, path.parent)
    return parse_calibration(raw, str(path), text, path.parent)


# --------------------------------------------------------------------------- model choice

MODEL_CHOICE = Section(
    {
        "name": Text(None, "The model choice's name (default: the file name)."),
        "description": Text("", "Which models compete for which targets."),
        "models": ListOf(Text(None, "A calibration file: a path relative to this file or a "
                              "shipped name."),
                         "The competing models: calibration files with the same fitted "
                         "targets, each with its own base scenario and priors."),
        "population": CALIBRATION.fields["population"],
        "epsilons": CALIBRATION.fields["epsilons"],
        "stop": STOP,
        "seed": CALIBRATION.fields["seed"],
    },
    "A model choice: calibration files fitted at once by ABC-SMC with a model index, whose "
    "posterior gives the models' probabilities (uniform model prior).",
    required=("models",),
)
"""The structure of a model-choice file (a calibration file with ``models:``)."""


@dataclass(frozen=True)
class ModelChoice:
    """A validated model-choice file: competing calibrations of the same targets.

    The sampler's settings (population, epsilons, stop rule, seed) are this file's; those
    of the member files are not used here (each member can still be calibrated alone).
    The model prior is uniform.
    """

    name: str
    description: str
    source: str
    text: str
    models: tuple[Calibration, ...]
    population: int
    epsilons: tuple[float, ...] | None
    generations: int | None
    min_epsilon: float | None
    min_acceptance: float | None
    seed: int

    @property
    def names(self) -> tuple[str, ...]:
        """The models' names, in the order of the file (pyabc's model index m)."""
        return tuple(m.name for m in self.models)

    @property
    def digest(self) -> str:
        """SHA-256 of this file, every member's digest and the budget."""
        h = hashlib.sha256()
        for part in (self.text, *(m.digest for m in self.models),
                     f"{self.population} {self.generations}"):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    def observed(self) -> dict[str, float]:
        """The observed data of the (shared) fitted targets."""
        return self.models[0].observed()

    def describe(self) -> dict[str, Any]:
        """Everything that defines the model choice's results."""
        return {
            "name": self.name, "source": self.source, "models": list(self.names),
            "members": [m.describe() for m in self.models],
            "targets": list(self.models[0].fit), "model_prior": "uniform",
            "population": self.population,
            "epsilons": list(self.epsilons) if self.epsilons else "quantile (median)",
            "stop": {"generations": self.generations, "min_epsilon": self.min_epsilon,
                     "min_acceptance": self.min_acceptance},
            "seed": self.seed,
        }


def parse_model_choice(raw: dict[str, Any], source: str = "<memory>", text: str = "",
                       base_dir: Path | None = None) -> ModelChoice:
    """Validate a model-choice file; raise :class:`ScenarioError` listing every problem.

    Each member is a calibration file, validated as one (its problems are reported under
    ``models[i]``). The members must fit the same targets (the same pattern ids) with the
    same runs per particle, so that their distances are one scale, and hold none out.
    """
    ctx = _Context()
    data = _validate(MODEL_CHOICE, raw, "", ctx)
    members: list[Calibration] = []
    listed = data.get("models") or []
    if "models" in raw and len(listed) < 2:
        ctx.fail("models", f"give at least two calibration files to choose between, got "
                 f"{len(listed)}")
    for i, name in enumerate(listed):
        if name is None:
            continue
        try:
            path = resolve_path(name, "calibration", relative_to=base_dir)
            member_raw, member_text = read_yaml(path)
            if isinstance(member_raw, dict) and "models" in member_raw:
                ctx.fail(f"models[{i}]", f"{path}: is a model choice itself; give calibration "
                         "files")
                continue
            members.append(parse_calibration(member_raw, str(path), member_text, path.parent))
        except ScenarioError as err:
            for q in err.problems:
                ctx.fail(f"models[{i}]", f"{err.file}: {q.path}: {q.message}")
    if members:
        first = members[0]
        for i, m in enumerate(members):
            if [x.name for x in members].index(m.name) != i:
                ctx.fail(f"models[{i}]", f"the name {m.name!r} is already taken by another "
                         "model: give each file its own name")
            if m.predict:
                ctx.fail(f"models[{i}]", f"{m.source}: holds out {', '.join(m.predict)}; a "
                         "model choice fits every target (no hold-out)")
            if set(m.fit) != set(first.fit):
                ctx.fail(f"models[{i}]", f"{m.name} fits {', '.join(m.fit)}, not the targets "
                         f"of {first.name} ({', '.join(first.fit)}): the models must fit "
                         "the same targets")
            if m.replicates_per_particle != first.replicates_per_particle:
                ctx.fail(f"models[{i}]", f"{m.name} runs {m.replicates_per_particle} "
                         f"replicates per particle, {first.name} "
                         f"{first.replicates_per_particle}: give them the same")
    stop = data["stop"] or {}
    if not data["epsilons"] and all(stop.get(k) is None for k in
                                    ("generations", "min_epsilon", "min_acceptance")):
        ctx.fail("stop", "give a stop rule: generations, min_epsilon or min_acceptance")
    if ctx.problems:
        raise ScenarioError(source, ctx.problems)
    name = data["name"] or (Path(source).stem if source != "<memory>" else "model-choice")
    return ModelChoice(
        name, data["description"], source, text, tuple(members), data["population"],
        tuple(data["epsilons"]) if data["epsilons"] else None, stop.get("generations"),
        stop.get("min_epsilon"), stop.get("min_acceptance"), data["seed"])


# --------------------------------------------------------------------------- the model


def particle_seed(master: int, theta: dict[str, float], names: tuple[str, ...]) -> int:
    """The run seed of a particle: from the calibration seed and the particle's values."""
    words = np.array([float(theta[n]) for n in names], dtype=np.float64).view(np.uint32)
    return run_seed(master, *(int(w) for w in words))


@dataclass
class ParticleModel:
    """pyabc's model: one particle's runs -> the match (1) or miss (0) of each target."""

    calibration: Calibration

    def __call__(self, theta: dict[str, float]) -> dict[str, float]:
        """Simulate the particle and return its summary statistics."""
        return simulate_targets(self.calibration, theta,
                                self.calibration.replicates_per_particle)


def simulate_targets(cal: Calibration, theta: dict[str, float], runs: int,
                     seed: int | None = None, *, tables: bool = False) -> dict[str, float]:
    """The share of ``runs`` runs under ``theta`` that match each target.

    The runs are those of ``run_scenario(cal.scenario(theta), runs, seed)``. A kind that
    computes pattern statistics from its raw output (``kind.statistics``) gives them
    without the result tables, the same values faster; ``tables`` asks for the tables'
    path anyway (the two are held equal by ``tests/test_statistics.py``).
    """
    names = tuple(p.name for p in cal.priors)
    if seed is None:
        seed = particle_seed(cal.seed, theta, names)
    scenario = cal.scenario(theta)
    kind = get_kind(scenario.kind)
    if not tables and hasattr(kind, "statistics"):  # the fast path: no table built
        raw = kind.simulate(scenario, replicate_seeds(seed, runs), agents=False)
        found = kind.statistics(scenario, raw, [p.statistic for p in cal.targets])
        return {p.id: float(np.mean(v == float(p.observed))) if runs else float("nan")
                for p, v in zip(cal.targets, found, strict=True)}
    res = run_scenario(scenario, runs, seed, agents=True)
    out = {}
    for p in cal.targets:
        flags = matches(p.statistic, p.observed, res.runs, res.steps, res.agents)
        out[p.id] = float(flags.fillna(False).astype(bool).mean())
    return out


def mismatches(x: dict[str, float], x0: dict[str, float]) -> float:
    """The distance: sum over the observed targets of |x - x0|.

    For the real history every observed value is 1 (each target matches), and this is the
    (mean) number of targets the particle's runs fail. Synthetic data (parameter recovery)
    may hold misses (0): a run is then at distance 0 when it reproduces the synthetic
    record, misses included. Only the keys of ``x0`` count, so held-out targets that a
    particle also simulates (``predict``) do not enter the distance.
    """
    return float(sum(abs(x[k] - x0[k]) for k in x0))


# --------------------------------------------------------------------------- running


class ResumeError(ValueError):
    """--resume on a folder that holds no calibration, or another calibration."""


def make_sampler(workers: int | None, scheduler: str | None) -> Any:
    """The pyabc sampler: one process, ``workers`` local processes, or a Dask scheduler."""
    import pyabc

    if scheduler is not None:
        from distributed import Client

        client = Client(scheduler)
        sampler = pyabc.sampler.DaskDistributedSampler(dask_client=client)
        sampler.normsim_client = client  # closed when the calibration ends
        return sampler
    if not workers or workers == 1:
        return pyabc.sampler.SingleCoreSampler()
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers)


def close_sampler(sampler: Any) -> None:
    """Close the Dask client a sampler opened (:func:`make_sampler`), if any."""
    client = getattr(sampler, "normsim_client", None)
    if client is not None:
        client.close()


def diagnostics(history: Any) -> pd.DataFrame:
    """One row per generation: epsilon, acceptance rate, ESS, particles, simulations.

    The ESS is that of the weights of every particle of the generation (of every model,
    in a model choice).
    """
    from pyabc.weighted_statistics import effective_sample_size

    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    rows = []
    for _, r in pops.iterrows():
        t = int(r["t"])
        w = history.get_weighted_distances(t)["w"].to_numpy(dtype=float)
        rows.append({"generation": t, "epsilon": float(r["epsilon"]),
                     "acceptance_rate": r["particles"] / r["samples"] if r["samples"] else
                     float("nan"), "ess": float(effective_sample_size(w)),
                     "particles": int(r["particles"]), "simulations": int(r["samples"])})
    return pd.DataFrame(rows)


def _stop(cal: Calibration | ModelChoice, diag: pd.DataFrame) -> str | None:
    if diag.empty:
        return None
    last = diag.iloc[-1]
    if cal.generations is not None and len(diag) >= cal.generations:
        return f"{cal.generations} generations"
    if cal.min_epsilon is not None and last["epsilon"] <= cal.min_epsilon:
        return f"epsilon {last['epsilon']:g} <= {cal.min_epsilon:g}"
    if cal.min_acceptance is not None and last["acceptance_rate"] < cal.min_acceptance:
        return f"acceptance {last['acceptance_rate']:.4f} < {cal.min_acceptance:g}"
    if cal.epsilons is not None and len(diag) >= len(cal.epsilons):
        return "end of the epsilon schedule"
    return None


def quiet_pyabc() -> None:
    """Silence pyabc's INFO logging: ``calibrate`` prints its own line per generation."""
    import logging

    logging.getLogger("ABC").setLevel(logging.WARNING)
    for logger in ("ABC.Sampler", "ABC.History", "ABC.Distance", "ABC.Epsilon",
                   "ABC.Population", "ABC.Adaptation", "ABC.Predictor"):
        logging.getLogger(logger).setLevel(logging.WARNING)


def epsilon_schedule(cal: Calibration | ModelChoice) -> Any:
    """The pyabc epsilon: the file's list schedule, else the median quantile epsilon."""
    import pyabc

    return (pyabc.ListEpsilon(list(cal.epsilons)) if cal.epsilons else
            pyabc.QuantileEpsilon(alpha=0.5))


def run_generations(abc: Any, history: Any, cal: Calibration | ModelChoice,
                    log: Callable[[str], None],
                    more: Callable[[Any], str] | None = None) -> tuple[pd.DataFrame, str]:
    """Run generations one at a time until the stop rule is met; one log line each.

    Args:
        abc: a pyabc ``ABCSMC`` whose history is ``history`` (new or loaded).
        history: its history.
        cal: the stop rule (generations, min_epsilon, min_acceptance, epsilons).
        log: takes each progress line.
        more: what to add to a generation's line (the model probabilities).

    Returns:
        The diagnostics (:func:`diagnostics`) and why it stopped.
    """
    while True:
        diag = diagnostics(history)
        reason = _stop(cal, diag)
        if reason is not None:
            return diag, reason
        t0 = time.perf_counter()
        abc.run(max_nr_populations=1, min_acceptance_rate=cal.min_acceptance or 0.0,
                minimum_epsilon=cal.min_epsilon if cal.min_epsilon is not None else 0.0)
        diag = diagnostics(history)
        last = diag.iloc[-1]
        took = time.perf_counter() - t0
        left = (cal.generations - len(diag)) if cal.generations else None
        # at the last generation's pace: later generations (smaller epsilon) take longer
        eta = f"~{left * took:.0f} s" if left else "-" if left == 0 else "?"
        extra = f"; {more(history)}" if more is not None else ""
        log(f"generation {int(last['generation'])}: epsilon {last['epsilon']:g}, acceptance "
            f"{last['acceptance_rate']:.3f}, particles {int(last['particles'])}, "
            f"simulations {int(last['simulations'])}, {took:.1f} s, ETA {eta}{extra}")


def open_folder(out: Path, digest: str, describe: dict[str, Any], *, resume: bool,
                overwrite: bool, needs: tuple[str, ...] = ("history.db",)) -> Path:
    """Claim ``out`` (or find the calibration to resume in it); return the folder to write.

    ``calibration.json`` records ``digest`` (checked on resume) and ``describe``; ``needs``
    are the files a folder must hold besides it to be resumed.

    With ``overwrite``, a folder that holds results keeps them until the new set is
    complete: the work goes to ``out/.pending``, which :func:`outdir.promote_pending` swaps
    in at the end.
    """
    pending = out / outdir.PENDING  # an overwriting calibration builds its set here
    work = pending if resume and (pending / "calibration.json").is_file() else out
    if not resume:
        outdir.claim(out, overwrite=overwrite)
        work = pending if outdir.holds_something(out) else out
        if work == pending:
            shutil.rmtree(pending, ignore_errors=True)  # an earlier, unfinished overwrite
    record = work / "calibration.json"
    if resume:
        if not record.is_file() or not all((work / n).is_file() for n in needs):
            raise ResumeError(f"{out}: no calibration to resume "
                              f"({' or '.join(('calibration.json', *needs))} is missing)")
        stored = json.loads(record.read_text(encoding="utf-8"))
        if stored.get("hash") != digest:
            raise ResumeError(f"{out}: holds another calibration (the calibration file, its "
                              "patterns or the base scenario changed); run it into a new "
                              "--out, or pass --overwrite without --resume")
    else:
        work.mkdir(parents=True, exist_ok=True)
        outdir.write_bytes(record, (json.dumps({"hash": digest, "run_id": 1, **describe},
                                               indent=2) + "\n").encode())
    (work / "metadata.json").unlink(missing_ok=True)  # not finished until written again
    return work


def software_versions() -> dict[str, str]:
    """The versions behind a result (metadata.json): normsim, pyabc, numpy, Python."""
    import pyabc

    return {"normsim_version": __version__, "pyabc_version": pyabc.__version__,
            "numpy_version": np.__version__, "python": sys.version.split()[0]}


def calibrate(cal: Calibration | ModelChoice, out: Path, *, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False, overwrite: bool = False,
              log: Callable[[str], None] | None = None,
              figures: Callable[[Path, dict[str, Any]], None] | None = None,
              predictive_draws: int = 200) -> dict[str, Any]:
    """Run (or continue) an ABC-SMC calibration, or a model choice, into ``out``.

    A :class:`Calibration` with held-out targets (``predict``) also writes ``holdout.csv``;
    a :class:`ModelChoice` writes ``model_probabilities.csv`` and ``posteriors.parquet``
    instead of the posterior of one model (:func:`_choose`), and ``model_evidence.csv``
    from ``predictive_draws`` prior draws of each model (:func:`model_evidence`).

    Raises:
        ResumeError: ``resume`` and ``out`` holds no calibration or another one.
        OutputError: ``out`` cannot be claimed.
    """
    import pyabc

    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    out = Path(out)
    work = open_folder(out, cal.digest, cal.describe(), resume=resume, overwrite=overwrite)
    quiet_pyabc()
    np.random.seed(cal.seed)  # noqa: NPY002 - pyabc draws from the global state (see the module docstring)
    eps = epsilon_schedule(cal)
    sampler = make_sampler(workers, scheduler)
    try:
        if isinstance(cal, ModelChoice):
            result = _choose(cal, work, sampler, eps, resume=resume, log=log,
                             figures=figures, workers=workers, scheduler=scheduler,
                             evidence_draws=predictive_draws)
        else:
            prior = pyabc.Distribution(**{p.name: p.rv() for p in cal.priors})
            result = _calibrate(cal, work, sampler, prior, eps, resume=resume, log=log,
                                figures=figures, predictive_draws=predictive_draws,
                                workers=workers, scheduler=scheduler)
        if work != out:  # complete: the new set replaces the old one whole
            outdir.promote_pending(out)
        return result
    finally:
        close_sampler(sampler)


def _calibrate(cal: Calibration, out: Path, sampler: Any, prior: Any, eps: Any, *,
               resume: bool, log: Callable[[str], None],
               figures: Callable[[Path, dict[str, Any]], None] | None,
               predictive_draws: int, workers: int | None,
               scheduler: str | None) -> dict[str, Any]:
    import pyabc

    abc = pyabc.ABCSMC(ParticleModel(cal), prior, mismatches, population_size=cal.population,
                       sampler=sampler, eps=eps)
    db_url = "sqlite:///" + str((out / "history.db").resolve())
    history = abc.load(db_url, 1) if resume else abc.new(db_url, cal.observed())
    started = time.perf_counter()
    done_before = len(diagnostics(history)) if resume else 0
    diag, reason = run_generations(abc, history, cal, log)
    elapsed = time.perf_counter() - started
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    post = frame.reset_index(drop=True)[[p.name for p in cal.priors]].astype(float)
    post["weight"] = np.asarray(weights, dtype=float)
    predictive = _predictive(cal, post, predictive_draws)
    held = holdout(cal, history, predictive) if cal.predict else None
    meta = {
        **software_versions(), "calibration": cal.describe(), "seed": cal.seed,
        "hashes": {"calibration_file": _sha(cal.text), "patterns_file": _sha(cal.targets_text),
                   "base_scenario": cal.base.digest, "combined": cal.digest},
        "generations": len(diag), "stopped": reason, "resumed": resume,
        "generations_this_session": len(diag) - done_before, "seconds_this_session": elapsed,
        "workers": workers or 1, "scheduler": scheduler is not None,
        "reproducible": (workers or 1) == 1 and scheduler is None,
        "predictive_draws": predictive_draws,
    }
    with outdir.atomic_file(out / "posterior.parquet") as tmp:
        post.to_parquet(tmp, index=False)
    with outdir.atomic_file(out / "diagnostics.csv") as tmp:
        diag.to_csv(tmp, index=False)
    with outdir.atomic_file(out / "predictive.csv") as tmp:
        predictive.to_csv(tmp, index=False)
    if held is not None:
        with outdir.atomic_file(out / "holdout.csv") as tmp:
            held.to_csv(tmp, index=False)
    if figures is not None:
        figures(out, meta)
    text = json.dumps(meta, indent=2, default=str) + "\n"
    outdir.write_bytes(out / "metadata.json", text.encode())
    return {"diagnostics": diag, "posterior": post, "predictive": predictive,
            "holdout": held, "meta": meta}


JOINT = {"all": "(all)", "fit": "(all fitted)", "predict": "(all held out)"}
"""The rows of ``predictive.csv`` and ``holdout.csv`` for several targets at once."""


def _predictive(cal: Calibration, post: pd.DataFrame, draws: int) -> pd.DataFrame:
    """P(match) of each target under the posterior and under the prior (one run per draw).

    Rows: each target (``role`` fit or predict), every target at once (``(all)``) and, with
    held-out targets, the fitted ones and the held-out ones at once.
    """
    import pyabc

    rng = np.random.default_rng(run_seed(cal.seed, 1, 0))
    names = [p.name for p in cal.priors]
    w = post["weight"].to_numpy()
    idx = rng.choice(len(post), size=draws, p=w / w.sum())
    np.random.seed(run_seed(cal.seed, 2, 0) % 2**32)  # noqa: NPY002 - pyabc's prior.rvs
    prior = pyabc.Distribution(**{p.name: p.rv() for p in cal.priors})
    sets = {"posterior": [dict(zip(names, post.iloc[i][names], strict=True)) for i in idx],
            "prior": [dict(prior.rvs()) for _ in range(draws)]}
    joints = {JOINT["all"]: [p.id for p in cal.targets]}
    if cal.predict:
        joints[JOINT["fit"]] = list(cal.fit)
        joints[JOINT["predict"]] = list(cal.predict)
    rows = []
    for which, thetas in sets.items():
        hits = pd.DataFrame([simulate_targets(cal, th, 1, run_seed(cal.seed, 3, d))
                             for d, th in enumerate(thetas)])
        for p in cal.targets:
            rows.append({"target": p.id, "role": "predict" if p.id in cal.predict else "fit",
                         "under": which, "p_match": float(hits[p.id].mean()),
                         "draws": draws})
        for label, ids in joints.items():
            rows.append({"target": label, "role": "joint", "under": which,
                         "p_match": float((hits[ids] == 1).all(axis=1).mean()),
                         "draws": draws})
    return pd.DataFrame(rows)


def holdout(cal: Calibration, history: Any, predictive: pd.DataFrame) -> pd.DataFrame:
    """The hold-out check: each held-out target's P(match) and posterior-predictive p-value.

    Columns, per held-out target and for all of them at once (``(all held out)``):

    - ``p_conditional``: P(match | the fitted record) under the posterior. It is read from
      the last generation's own runs: among its particles, those whose run reproduces every
      fitted target (all of them at epsilon 0), weighted, and the share of their runs
      that match the held-out target. Those runs are draws of the rest of the history
      given its first part and theta from the posterior, so this is the predictive
      distribution p(x_predict | x_fit) (exact, up to Monte Carlo error, with one run per
      particle). ``particles`` and ``ess`` say how many runs it rests on; its 95% interval
      (``p_conditional_low``, ``_high``) is the Wilson interval with the ESS as the count.
    - ``p_value``: the posterior-predictive p-value of the record (Meng 1994; Gelman, Meng
      and Stern 1996), the tail area Pr(T(x_rep) >= T(x_obs) | x_fit) of the test
      statistic T = the number of held-out patterns that hold. The record holds every
      one (T(x_obs) is the maximum), so p = Pr(every held-out pattern holds), which for
      one pattern is ``p_conditional``. A small p (say < 0.05) means the fitted model
      rarely produces what happened next.
    - ``p_posterior``, ``p_prior``: P(match) in new whole runs of posterior draws, and of
      prior draws (``predictive.csv``), with the posterior's 95% Wilson interval.
    """
    from pyabc.weighted_statistics import effective_sample_size

    w, stats = history.get_weighted_sum_stats_for_model(m=0, t=history.max_t)
    x = pd.DataFrame(stats)
    w = np.asarray(w, dtype=float) * (x[list(cal.fit)] == 1).all(axis=1).to_numpy()
    exact = int((w > 0).sum())
    ess = float(effective_sample_size(w)) if exact else 0.0
    wide = predictive.pivot(index="target", columns="under", values="p_match")
    draws = int(predictive["draws"].iloc[0])
    rows = []
    for target in (*cal.predict, JOINT["predict"]):
        hit = (x[list(cal.predict)] == 1).all(axis=1) if target == JOINT["predict"] \
            else x[target]
        p = float((w * hit.to_numpy()).sum() / w.sum()) if exact else float("nan")
        c_lo, c_hi = (wilson_interval(round(p * ess), max(1, round(ess))) if exact
                      else (float("nan"), float("nan")))
        post = float(wide.loc[target, "posterior"])
        lo, hi = wilson_interval(round(post * draws), draws)
        rows.append({"target": target, "observed": "match", "p_conditional": p,
                     "p_conditional_low": c_lo, "p_conditional_high": c_hi,
                     "p_value": p, "particles": exact, "ess": ess, "p_posterior": post,
                     "p_posterior_low": lo, "p_posterior_high": hi,
                     "p_prior": float(wide.loc[target, "prior"]), "draws": draws})
    return pd.DataFrame(rows)


def model_probabilities(history: Any, names: tuple[str, ...]) -> pd.DataFrame:
    """Per generation and model: its posterior probability and particles (0 once dead).

    ``probability_low`` and ``_high``: a 95% Wilson interval with the generation's ESS as
    the count (with equal weights, as at generation 0, the multinomial share's interval).
    """
    from pyabc.weighted_statistics import effective_sample_size

    probs = history.get_model_probabilities()
    rows = []
    for t in probs.index:
        if t < 0:
            continue
        ess = float(effective_sample_size(history.get_weighted_distances(int(t))["w"]))
        for m, name in enumerate(names):
            p = float(probs.loc[t, m]) if m in probs.columns else 0.0
            particles = len(history.get_distribution(m=m, t=int(t))[0]) if p > 0 else 0
            lo, hi = wilson_interval(round(p * ess), max(1, round(ess)))
            rows.append({"generation": int(t), "model": name, "m": m, "probability": p,
                         "probability_low": lo, "probability_high": hi,
                         "particles": particles})
    return pd.DataFrame(rows)


def model_evidence(choice: ModelChoice, draws: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A direct check of the model choice: each model's evidence by prior simulation.

    For each model, ``draws`` parameter sets from its prior, one run each: the share of
    runs that reproduce every target is an unbiased estimate of the evidence
    P(record | m), the probability of the record under the model and its prior (with its
    95% Wilson interval). Under the uniform model prior, P(m | record) is the model's share
    of the summed evidence (``probability``, with a 95% interval from the evidences'
    Jeffreys intervals): rejection ABC at epsilon 0, exact up to Monte Carlo error.

    Returns:
        The evidence table (``model_evidence.csv``), and the same runs' P(match) of each
        target under each model's prior (``model_predictive.csv``: which patterns a model
        finds hard).
    """
    rows, per_target = [], []
    for m, member in enumerate(choice.models):
        rng = np.random.default_rng(run_seed(choice.seed, 4, m))
        runs = []
        for d in range(draws):
            theta = {p.name: p.draw(rng) for p in member.priors}
            runs.append(simulate_targets(member, theta, 1, run_seed(choice.seed, 5, m, d)))
        x = pd.DataFrame(runs)[list(member.fit)]
        hits = int((x == 1).all(axis=1).sum())
        per_target.extend({"model": member.name, "target": k, "p_match": float(x[k].mean()),
                           "draws": draws} for k in member.fit)
        lo, hi = wilson_interval(hits, draws)
        rows.append({"model": member.name, "draws": draws, "matches": hits,
                     "evidence": hits / draws, "evidence_low": lo, "evidence_high": hi})
    table = pd.DataFrame(rows)
    total = table["evidence"].sum()
    table["probability"] = table["evidence"] / total if total > 0 else float("nan")
    # the probabilities' 95% interval: each evidence from its Jeffreys posterior Beta(k +
    # 1/2, n - k + 1/2), independently, 4,000 times
    rng = np.random.default_rng(run_seed(choice.seed, 6))
    z = rng.beta(table["matches"].to_numpy() + 0.5,
                 table["draws"].to_numpy() - table["matches"].to_numpy() + 0.5,
                 size=(4000, len(table)))
    shares = z / z.sum(axis=1, keepdims=True)
    table["probability_low"] = np.quantile(shares, 0.025, axis=0)
    table["probability_high"] = np.quantile(shares, 0.975, axis=0)
    return table, pd.DataFrame(per_target)


def _choose(choice: ModelChoice, out: Path, sampler: Any, eps: Any, *, resume: bool,
            log: Callable[[str], None],
            figures: Callable[[Path, dict[str, Any]], None] | None,
            workers: int | None, scheduler: str | None,
            evidence_draws: int) -> dict[str, Any]:
    """ABC-SMC with a model index: the posterior probability of each model (uniform prior).

    At epsilon 0 (with one run per particle) a particle is accepted when its run
    reproduces the record, so the model probabilities are exact: P(m | record) is
    proportional to P(m) x P(record | m), the marginal likelihood of model m under its
    prior. pyabc's model kernel keeps a particle's model with probability 0.7; a model
    with no particle in a generation is dead for the rest of the run.
    """
    import pyabc

    members = [dataclasses.replace(m, seed=choice.seed) for m in choice.models]
    priors = [pyabc.Distribution(**{p.name: p.rv() for p in m.priors}) for m in members]
    abc = pyabc.ABCSMC([ParticleModel(m) for m in members], priors, mismatches,
                       population_size=choice.population, sampler=sampler, eps=eps)
    db_url = "sqlite:///" + str((out / "history.db").resolve())
    history = abc.load(db_url, 1) if resume else abc.new(db_url, choice.observed())
    names = choice.names

    def probabilities(h: Any) -> str:
        p = h.get_model_probabilities(h.max_t)["p"]
        return "P(model) " + ", ".join(f"{n} {float(p.get(m, 0.0)):.3f}"
                                       for m, n in enumerate(names))

    started = time.perf_counter()
    done_before = len(diagnostics(history)) if resume else 0
    diag, reason = run_generations(abc, history, choice, log, more=probabilities)
    elapsed = time.perf_counter() - started
    probs = model_probabilities(history, names)
    frames = []
    for m, member in enumerate(members):
        last = probs[(probs["generation"] == history.max_t) & (probs["m"] == m)]
        if float(last["probability"].iloc[0]) <= 0:
            continue
        frame, weights = history.get_distribution(m=m, t=history.max_t)
        frame = frame.reset_index(drop=True)[[p.name for p in member.priors]].astype(float)
        frame.insert(0, "model", member.name)
        frame["weight"] = np.asarray(weights, dtype=float)
        frames.append(frame)
    posteriors = pd.concat(frames, ignore_index=True)
    evidence, per_target = model_evidence(choice, evidence_draws)
    final = probs[probs["generation"] == history.max_t].set_index("model")["probability"]
    evidence["probability_abc_smc"] = evidence["model"].map(final).to_numpy()
    meta = {
        **software_versions(), "model_choice": choice.describe(), "seed": choice.seed,
        "hashes": {"model_choice_file": _sha(choice.text),
                   "models": {m.name: m.digest for m in choice.models},
                   "combined": choice.digest},
        "generations": len(diag), "stopped": reason, "resumed": resume,
        "generations_this_session": len(diag) - done_before, "seconds_this_session": elapsed,
        "workers": workers or 1, "scheduler": scheduler is not None,
        "reproducible": (workers or 1) == 1 and scheduler is None,
        "model_probabilities": {row.model: row.probability for row in
                                probs[probs["generation"] == history.max_t].itertuples()},
        "model_probabilities_direct": dict(zip(evidence["model"], evidence["probability"],
                                               strict=True)),
        "evidence_draws": evidence_draws,
    }
    with outdir.atomic_file(out / "model_probabilities.csv") as tmp:
        probs.to_csv(tmp, index=False)
    with outdir.atomic_file(out / "diagnostics.csv") as tmp:
        diag.to_csv(tmp, index=False)
    with outdir.atomic_file(out / "posteriors.parquet") as tmp:
        posteriors.to_parquet(tmp, index=False)
    with outdir.atomic_file(out / "model_evidence.csv") as tmp:
        evidence.to_csv(tmp, index=False)
    with outdir.atomic_file(out / "model_predictive.csv") as tmp:
        per_target.to_csv(tmp, index=False)
    if figures is not None:
        figures(out, meta)
    text = json.dumps(meta, indent=2, default=str) + "\n"
    outdir.write_bytes(out / "metadata.json", text.encode())
    return {"diagnostics": diag, "model_probabilities": probs, "posteriors": posteriors,
            "evidence": evidence, "model_predictive": per_target, "meta": meta}


def check_fitted_keys(scenario: Scenario, priors: list[dict[str, Any]]) -> list[Problem]:
    """The fitted keys a scenario lacks (for ``run --posterior``)."""
    problems = []
    for p in priors:
        if spec_at(_schema(scenario), p["key"], scenario.data) is None:
            problems.append(Problem(p["key"], f"fitted parameter {p['name']} has no such key "
                                    f"in {scenario.name}"))
            continue
        try:
            scenario.with_overrides({p["key"]: float(p["low"])})
        except ScenarioError as err:
            problems.extend(Problem(p["key"], f"{q.path}: {q.message}") for q in err.problems)
    return problems
