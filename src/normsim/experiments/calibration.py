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
number of target patterns the runs fail (a pattern with no value in a run counts as failed).
With one run per particle and epsilon 0, a particle is accepted exactly when its run
reproduces the whole history, so the accepted particles are draws from
prior x P(history | theta): for these binary data ABC at epsilon 0 is exact.

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
from normsim.analysis.patterns import matches
from normsim.experiments.patterns import Pattern, load_patterns
from normsim.experiments.replicates import run_scenario
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
from normsim.seeds import run_seed

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
CALIBRATION = Section(
    {
        "name": Text(None, "The calibration's name (default: the file name)."),
        "description": Text("", "What is fitted to what."),
        "scenario": Text(None, "The base scenario: a path relative to this file or a shipped "
                         "name."),
        "overrides": Free("Dotted scenario keys applied to the base.", form="mapping",
                          default={}),
        "targets": Text(None, "A pattern file (a shipped name or a path): its patterns of "
                        "the base scenario are the targets."),
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

    def describe(self) -> dict[str, Any]:
        """The prior as a plain mapping (metadata.json; the plots read it)."""
        return {"name": self.name, "key": self.key, "kind": self.kind, "a": self.a,
                "b": self.b, "low": self.low, "high": self.high, "doc": self.doc}


@dataclass(frozen=True)
class Calibration:
    """A validated calibration file."""

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
    targets: tuple[Pattern, ...] = ()
    targets_source = targets_text = ""
    if data.get("targets") is not None:
        try:
            path = resolve_path(data["targets"], "patterns", relative_to=base_dir)
            pset = load_patterns(path)
            targets_source, targets_text = pset.source, pset.text
            if base is not None:
                targets = tuple(p for p in pset.patterns if p.scenario.name == base.name)
                if not targets:
                    ctx.fail("targets", f"{pset.name} has no pattern of the base scenario "
                             f"{base.name}")
        except ScenarioError as err:
            for q in err.problems:
                ctx.fail("targets", f"{err.file}: {q.path}: {q.message}")
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
        data["replicates_per_particle"], data["seed"], data["distance"])


def _schema(base: Scenario) -> Any:
    from normsim.models import get_kind

    return get_kind(base.kind).schema


def load_calibration(name: str | Path) -> Calibration:
    """Read and validate a calibration file: a path or a shipped name (``asean-history``)."""
    path = resolve_path(name, "calibration")
    raw, text = read_yaml(path)
    return parse_calibration(raw, str(path), text, path.parent)


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
                     seed: int | None = None) -> dict[str, float]:
    """The share of ``runs`` runs under ``theta`` that match each target."""
    names = tuple(p.name for p in cal.priors)
    if seed is None:
        seed = particle_seed(cal.seed, theta, names)
    res = run_scenario(cal.scenario(theta), runs, seed, agents=True)
    out = {}
    for p in cal.targets:
        flags = matches(p.statistic, p.observed, res.runs, res.steps, res.agents)
        out[p.id] = float(flags.fillna(False).astype(bool).mean())
    return out


def mismatches(x: dict[str, float], x0: dict[str, float]) -> float:
    """The distance: the (mean) number of targets the particle's runs fail."""
    return float(sum(x0[k] - x[k] for k in x0))


# --------------------------------------------------------------------------- running


class ResumeError(ValueError):
    """--resume on a folder that holds no calibration, or another calibration."""


def _sampler(workers: int | None, scheduler: str | None) -> Any:
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


def diagnostics(history: Any) -> pd.DataFrame:
    """One row per generation: epsilon, acceptance rate, ESS, particles, simulations."""
    from pyabc.weighted_statistics import effective_sample_size

    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    rows = []
    for _, r in pops.iterrows():
        t = int(r["t"])
        _, w = history.get_distribution(m=0, t=t)
        rows.append({"generation": t, "epsilon": float(r["epsilon"]),
                     "acceptance_rate": r["particles"] / r["samples"] if r["samples"] else
                     float("nan"), "ess": float(effective_sample_size(w)),
                     "particles": int(r["particles"]), "simulations": int(r["samples"])})
    return pd.DataFrame(rows)


def _stop(cal: Calibration, diag: pd.DataFrame) -> str | None:
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


def calibrate(cal: Calibration, out: Path, *, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False, overwrite: bool = False,
              log: Callable[[str], None] | None = None,
              figures: Callable[[Path, dict[str, Any]], None] | None = None,
              predictive_draws: int = 200) -> dict[str, Any]:
    """Run (or continue) an ABC-SMC calibration into ``out``.

    Raises:
        ResumeError: ``resume`` and ``out`` holds no calibration or another one.
        OutputError: ``out`` cannot be claimed.
    """
    import logging

    import pyabc

    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    out = Path(out)
    pending = out / outdir.PENDING  # an overwriting calibration builds its set here
    work = pending if resume and (pending / "calibration.json").is_file() else out
    if not resume:
        outdir.claim(out, overwrite=overwrite)
        work = pending if outdir.holds_something(out) else out
        if work == pending:
            shutil.rmtree(pending, ignore_errors=True)  # an earlier, unfinished overwrite
    record = work / "calibration.json"
    if resume:
        if not record.is_file() or not (work / "history.db").is_file():
            raise ResumeError(f"{out}: no calibration to resume (calibration.json or "
                              "history.db is missing)")
        stored = json.loads(record.read_text(encoding="utf-8"))
        if stored.get("hash") != cal.digest:
            raise ResumeError(f"{out}: holds another calibration (the calibration file, its "
                              "patterns or the base scenario changed); run it into a new "
                              "--out, or pass --overwrite without --resume")
    else:
        work.mkdir(parents=True, exist_ok=True)
        outdir.write_bytes(record, (json.dumps({"hash": cal.digest, "run_id": 1,
                                                **cal.describe()}, indent=2) + "\n").encode())
    (work / "metadata.json").unlink(missing_ok=True)  # not finished until written again
    logging.getLogger("ABC").setLevel(logging.WARNING)
    for logger in ("ABC.Sampler", "ABC.History", "ABC.Distance", "ABC.Epsilon",
                   "ABC.Population", "ABC.Adaptation", "ABC.Predictor"):
        logging.getLogger(logger).setLevel(logging.WARNING)
    np.random.seed(cal.seed)  # noqa: NPY002 - pyabc draws from the global state (see the module docstring)
    prior = pyabc.Distribution(**{p.name: p.rv() for p in cal.priors})
    eps = (pyabc.ListEpsilon(list(cal.epsilons)) if cal.epsilons else
           pyabc.QuantileEpsilon(alpha=0.5))
    sampler = _sampler(workers, scheduler)
    try:
        result = _calibrate(cal, work, sampler, prior, eps, resume=resume, log=log,
                            figures=figures, predictive_draws=predictive_draws,
                            workers=workers, scheduler=scheduler)
        if work == pending:  # complete: the new set replaces the old one whole
            outdir.promote_pending(out)
        return result
    finally:
        client = getattr(sampler, "normsim_client", None)
        if client is not None:
            client.close()


def _calibrate(cal: Calibration, out: Path, sampler: Any, prior: Any, eps: Any, *,
               resume: bool, log: Callable[[str], None],
               figures: Callable[[Path, dict[str, Any]], None] | None,
               predictive_draws: int, workers: int | None,
               scheduler: str | None) -> dict[str, Any]:
    import pyabc

    abc = pyabc.ABCSMC(ParticleModel(cal), prior, mismatches, population_size=cal.population,
                       sampler=sampler, eps=eps)
    db_url = "sqlite:///" + str((out / "history.db").resolve())
    observed = {p.id: 1.0 for p in cal.targets}
    history = abc.load(db_url, 1) if resume else abc.new(db_url, observed)
    started = time.perf_counter()
    done_before = len(diagnostics(history)) if resume else 0
    while True:
        diag = diagnostics(history)
        reason = _stop(cal, diag)
        if reason is not None:
            break
        t0 = time.perf_counter()
        abc.run(max_nr_populations=1, min_acceptance_rate=cal.min_acceptance or 0.0,
                minimum_epsilon=cal.min_epsilon if cal.min_epsilon is not None else 0.0)
        diag = diagnostics(history)
        last = diag.iloc[-1]
        took = time.perf_counter() - t0
        left = (cal.generations - len(diag)) if cal.generations else None
        # at the last generation's pace: later generations (smaller epsilon) take longer
        eta = f"~{left * took:.0f} s" if left else "-" if left == 0 else "?"
        log(f"generation {int(last['generation'])}: epsilon {last['epsilon']:g}, acceptance "
            f"{last['acceptance_rate']:.3f}, particles {int(last['particles'])}, "
            f"simulations {int(last['simulations'])}, {took:.1f} s, ETA {eta}")
    elapsed = time.perf_counter() - started
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    post = frame.reset_index(drop=True)[[p.name for p in cal.priors]].astype(float)
    post["weight"] = np.asarray(weights, dtype=float)
    predictive = _predictive(cal, post, predictive_draws)
    meta = {
        "normsim_version": __version__, "pyabc_version": pyabc.__version__,
        "numpy_version": np.__version__, "python": sys.version.split()[0],
        "calibration": cal.describe(), "seed": cal.seed,
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
    if figures is not None:
        figures(out, meta)
    text = json.dumps(meta, indent=2, default=str) + "\n"
    outdir.write_bytes(out / "metadata.json", text.encode())
    return {"diagnostics": diag, "posterior": post, "predictive": predictive, "meta": meta}


def _predictive(cal: Calibration, post: pd.DataFrame, draws: int) -> pd.DataFrame:
    """P(match) of each target under the posterior and under the prior (one run per draw)."""
    import pyabc

    rng = np.random.default_rng(run_seed(cal.seed, 1, 0))
    names = [p.name for p in cal.priors]
    w = post["weight"].to_numpy()
    idx = rng.choice(len(post), size=draws, p=w / w.sum())
    np.random.seed(run_seed(cal.seed, 2, 0) % 2**32)  # noqa: NPY002 - pyabc's prior.rvs
    prior = pyabc.Distribution(**{p.name: p.rv() for p in cal.priors})
    sets = {"posterior": [dict(zip(names, post.iloc[i][names], strict=True)) for i in idx],
            "prior": [dict(prior.rvs()) for _ in range(draws)]}
    rows = []
    for which, thetas in sets.items():
        hits = pd.DataFrame([simulate_targets(cal, th, 1, run_seed(cal.seed, 3, d))
                             for d, th in enumerate(thetas)])
        for p in cal.targets:
            rows.append({"target": p.id, "under": which, "p_match": float(hits[p.id].mean()),
                         "draws": draws})
        rows.append({"target": "(all)", "under": which,
                     "p_match": float((hits[[p.id for p in cal.targets]] == 1).all(axis=1)
                                      .mean()), "draws": draws})
    return pd.DataFrame(rows)


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
