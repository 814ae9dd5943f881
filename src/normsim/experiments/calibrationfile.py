"""Calibration files: a base scenario, pattern targets, fitted parameters with priors.

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

``targets`` may split the pattern file's patterns: ``targets: {file: asean-history,
holdout_after: 2014}`` fits the patterns that read no year after 2014 and *predicts* the
others (held out: every particle simulates them, the distance ignores them; the outputs
add ``holdout.csv``, :func:`~normsim.experiments.calibration.holdout`), as do
``fit: [ids]`` and ``predict: [ids]``; ``targets.scenario`` names whose patterns are the
targets when the base scenario has another name (a null model that extends asean-2003).

A file with ``models: [FILE, ...]`` is a model choice (:class:`ModelChoice`): calibration
files with the same targets, fitted at once by pyabc with a model index under a uniform
model prior; the outputs are the models' posterior probabilities per generation
(``model_probabilities.csv``), a direct check of them by prior simulation
(``model_evidence.csv``, :func:`~normsim.experiments.calibration.model_evidence`) and each
model's particles. Parameter recovery on synthetic records is
:mod:`normsim.experiments.recovery`.

Priors: ``uniform: [lo, hi]``, or ``normal: [mean, sd]`` truncated to the key's range in
the scenario schema (and to ``range: [lo, hi]`` if given). Both ends of each prior's
support are applied to the base scenario, so a file fails before anything runs, with one
line per problem.

Running a calibration file (ABC-SMC through pyabc) is :mod:`normsim.experiments.calibration`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from normsim.experiments.patterns import Pattern, load_patterns
from normsim.scenario import Scenario, ScenarioError, load_scenario, read_yaml, resolve_path
from normsim.schema import (
    Choice,
    Free,
    ListOf,
    MapOf,
    Num,
    Section,
    Text,
    _Context,
    _type_name,
    _validate,
    spec_at,
)

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
