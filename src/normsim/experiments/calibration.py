"""Calibration by approximate Bayesian computation (ABC-SMC, through pyabc).

A calibration file (:mod:`normsim.experiments.calibrationfile`: the base scenario, the
target patterns, the fitted parameters with their priors, the sampler's settings) is read
into a :class:`~normsim.experiments.calibrationfile.Calibration`, or a
:class:`~normsim.experiments.calibrationfile.ModelChoice`, and run here.

Each particle simulates ``replicates_per_particle`` runs of the base scenario with the
particle's values applied (:meth:`Scenario.with_overrides`) and its distance is the mean
number of fitted target patterns the runs fail (a pattern with no value in a run counts as
failed; :func:`mismatches`, sum |x - x0|, also takes synthetic records with misses).
With one run per particle and epsilon 0, a particle is accepted exactly when its run
reproduces the whole history, so the accepted particles are draws from
prior x P(history | theta): for these binary data ABC at epsilon 0 is exact.

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
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from normsim import outdir
from normsim.analysis.intervals import wilson_interval
from normsim.analysis.patterns import matches
from normsim.experiments.calibrationfile import Calibration, ModelChoice
from normsim.experiments.replicates import run_scenario
from normsim.models import get_kind
from normsim.results import provenance
from normsim.seeds import replicate_seeds, run_seed


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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
    """The versions behind a result (metadata.json): the run's provenance, and pyabc's."""
    import pyabc

    return {**provenance(), "pyabc_version": pyabc.__version__}


def sampler_facts(workers: int | None, scheduler: str | None) -> dict[str, Any]:
    """Where a calibration ran, and whether it replays whole (one local worker only)."""
    return {"workers": workers or 1, "scheduler": scheduler is not None,
            "reproducible": (workers or 1) == 1 and scheduler is None}


def publish(out: Path, tables: dict[str, pd.DataFrame], meta: dict[str, Any],
            figures: Callable[[Path, dict[str, Any]], None] | None) -> None:
    """Write the tables (Parquet or CSV by name), the figures, then ``metadata.json``.

    Each file is written atomically, and the metadata last: its presence marks a finished
    result.
    """
    for name, table in tables.items():
        with outdir.atomic_file(out / name) as tmp:
            if name.endswith(".parquet"):
                table.to_parquet(tmp, index=False)
            else:
                table.to_csv(tmp, index=False)
    if figures is not None:
        figures(out, meta)
    outdir.write_bytes(out / "metadata.json",
                       (json.dumps(meta, indent=2, default=str) + "\n").encode())


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
        **sampler_facts(workers, scheduler), "predictive_draws": predictive_draws,
    }
    tables = {"posterior.parquet": post, "diagnostics.csv": diag, "predictive.csv": predictive}
    if held is not None:
        tables["holdout.csv"] = held
    publish(out, tables, meta, figures)
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
        **sampler_facts(workers, scheduler),
        "model_probabilities": {row.model: row.probability for row in
                                probs[probs["generation"] == history.max_t].itertuples()},
        "model_probabilities_direct": dict(zip(evidence["model"], evidence["probability"],
                                               strict=True)),
        "evidence_draws": evidence_draws,
    }
    publish(out, {"model_probabilities.csv": probs, "diagnostics.csv": diag,
                  "posteriors.parquet": posteriors, "model_evidence.csv": evidence,
                  "model_predictive.csv": per_target}, meta, figures)
    return {"diagnostics": diag, "model_probabilities": probs, "posteriors": posteriors,
            "evidence": evidence, "model_predictive": per_target, "meta": meta}
