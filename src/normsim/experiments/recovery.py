"""Parameter recovery of a calibration: synthetic records, calibrated back (MODEL-BRIEF §8).

Each repeat ``m`` of ``normsim calibrate FILE --recovery M``:

1. draws theta_true from the calibration's priors (a generator seeded from the
   calibration seed and ``m``);
2. simulates one run of the base scenario under theta_true: its match (1) or miss (0) of
   each fitted target is the synthetic record x0 (a record with misses, unlike the real
   history, which matches every target);
3. calibrates back to x0 with the file's sampler settings (ABC-SMC through pyabc, the
   distance sum |x - x0| of :func:`~normsim.experiments.calibration.mismatches`);
4. records theta_true, x0 and the last generation's weighted particles.

Over the repeats, :mod:`normsim.analysis.recovery` checks how often theta_true falls inside
the posterior's central 90% credible interval. At epsilon 0 with one run per particle the
ABC posterior is exact, so the expected share is 90% for every parameter; a repeat that
stops before epsilon 0 (``final_epsilon`` > 0) has a wider, approximate posterior. With
``replicates_per_particle`` k > 1, the calibration fits P(x0 | theta)^k, not the posterior
of one record, and the coverage is not nominal.

Seeds: repeat ``m`` uses the seed ``run_seed(seed, RECOVERY_KEY, m)``: for theta_true, for
the synthetic run (``run_seed(that, 0)``), as the calibration seed of its particles and
(modulo 2**32) for pyabc's global random state. On one worker a recovery study replays;
with ``--workers`` > 1 the particles proposed are not reproducible (as for ``calibrate``).

Outputs (``DIR``): ``calibration.json`` (the hash, checked by ``--resume``), per repeat
``repeats/NNNN.json`` (truth, record, budget) and ``repeats/NNNN.parquet`` (the weighted
particles), and at the end ``recovery.csv`` (one row per repeat and parameter;
``misses``: the targets the synthetic record misses, ``-`` for none),
``recovery_summary.csv`` (coverage per parameter), ``figures/`` and ``metadata.json``.
``--resume`` skips the repeats already written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from normsim import outdir
from normsim.analysis.recovery import coverage, recovery_table
from normsim.experiments.calibration import (
    ParticleModel,
    close_sampler,
    epsilon_schedule,
    make_sampler,
    mismatches,
    open_folder,
    publish,
    quiet_pyabc,
    run_generations,
    sampler_facts,
    simulate_targets,
    software_versions,
)
from normsim.experiments.calibrationfile import Calibration
from normsim.seeds import run_seed

RECOVERY_KEY = 0x5EC0
"""The first spawn key of the recovery seeds, apart from the calibration's own streams."""
LEVEL = 0.9
"""The central credible interval checked."""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def recovery_digest(cal: Calibration, repeats: int, level: float = LEVEL) -> str:
    """The hash of a recovery study: the calibration's, the repeats and the level."""
    return hashlib.sha256(f"{cal.digest} recovery {repeats} {level}".encode()).hexdigest()


def fitted_only(cal: Calibration) -> Calibration:
    """The calibration without its held-out targets (recovery fits what the file fits)."""
    return dataclasses.replace(cal, targets=tuple(p for p in cal.targets if p.id in cal.fit),
                               predict=())


def synthetic_record(cal: Calibration, repeat: int) -> tuple[dict[str, float],
                                                              dict[str, float], int]:
    """Repeat ``repeat``'s theta_true, its synthetic record (one run) and its seed."""
    seed = run_seed(cal.seed, RECOVERY_KEY, repeat)
    rng = np.random.default_rng(seed)
    truth = {p.name: p.draw(rng) for p in cal.priors}
    record = simulate_targets(fitted_only(cal), truth, 1, seed=run_seed(seed, 0))
    return truth, record, seed


def _repeat(cal: Calibration, repeat: int, folder: Path, sampler: Any,
            log: Callable[[str], None]) -> dict[str, Any]:
    """Run one repeat into ``folder`` (``NNNN.parquet``, then ``NNNN.json``); return its record."""
    import pyabc

    fitted = fitted_only(cal)
    truth, record, seed = synthetic_record(cal, repeat)
    mine = dataclasses.replace(fitted, seed=seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - pyabc draws from the global state
    prior = pyabc.Distribution(**{p.name: p.rv() for p in cal.priors})
    abc = pyabc.ABCSMC(ParticleModel(mine), prior, mismatches, population_size=cal.population,
                       sampler=sampler, eps=epsilon_schedule(cal))
    db = folder / f"{repeat:04d}.db"
    db.unlink(missing_ok=True)  # an interrupted repeat starts again
    started = time.perf_counter()
    history = abc.new("sqlite:///" + str(db.resolve()), record)
    diag, reason = run_generations(abc, history, cal,
                                   lambda line: log(f"repeat {repeat}: {line}"))
    frame, weights = history.get_distribution(m=0, t=history.max_t)
    post = frame.reset_index(drop=True)[[p.name for p in cal.priors]].astype(float)
    post["weight"] = np.asarray(weights, dtype=float)
    last = diag.iloc[-1]
    info = {"repeat": repeat, "seed": seed, "truth": truth, "record": record,
            "final_epsilon": float(last["epsilon"]), "generations": len(diag),
            "simulations": int(diag["simulations"].sum()), "ess": float(last["ess"]),
            "stopped": reason, "seconds": time.perf_counter() - started}
    with outdir.atomic_file(folder / f"{repeat:04d}.parquet") as tmp:
        post.to_parquet(tmp, index=False)
    outdir.write_bytes(folder / f"{repeat:04d}.json",
                       (json.dumps(info, indent=2) + "\n").encode())
    db.unlink(missing_ok=True)  # the particles are kept; pyabc's history of a repeat is not
    return info


def recover(cal: Calibration, out: Path, repeats: int, *, workers: int | None = None,
            scheduler: str | None = None, resume: bool = False, overwrite: bool = False,
            log: Callable[[str], None] | None = None,
            figures: Callable[[Path, dict[str, Any]], None] | None = None,
            level: float = LEVEL) -> dict[str, Any]:
    """Run (or continue) a parameter-recovery study of ``repeats`` repeats into ``out``.

    Returns:
        ``table`` (recovery.csv), ``summary`` (recovery_summary.csv), ``repeats`` (each
        repeat's record) and ``meta``.

    Raises:
        ResumeError: ``resume`` and ``out`` holds no recovery study or another one.
        OutputError: ``out`` cannot be claimed.
    """
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    out = Path(out)
    digest = recovery_digest(cal, repeats, level)
    describe = {"recovery": {"repeats": repeats, "level": level}, **cal.describe()}
    work = open_folder(out, digest, describe, resume=resume, overwrite=overwrite, needs=())
    folder = work / "repeats"
    folder.mkdir(exist_ok=True)
    quiet_pyabc()
    sampler = make_sampler(workers, scheduler)
    started = time.perf_counter()
    infos: list[dict[str, Any]] = []
    try:
        for m in range(repeats):
            done = folder / f"{m:04d}.json"
            if done.is_file() and (folder / f"{m:04d}.parquet").is_file():
                infos.append(json.loads(done.read_text(encoding="utf-8")))
                continue
            t0 = time.perf_counter()
            info = _repeat(cal, m, folder, sampler, log)
            infos.append(info)
            left = repeats - m - 1
            eta = f"~{left * (time.perf_counter() - t0):.0f} s" if left else "-"
            log(f"repeat {m + 1}/{repeats} done: final epsilon {info['final_epsilon']:g}, "
                f"{info['simulations']} simulations, {info['seconds']:.1f} s, ETA {eta}")
    finally:
        close_sampler(sampler)
    posteriors = [pd.read_parquet(folder / f"{i['repeat']:04d}.parquet") for i in infos]
    table = recovery_table([i["truth"] for i in infos], posteriors,
                           {p.name: p.sd() for p in cal.priors}, level)
    extra = pd.DataFrame([{"repeat": i["repeat"], "final_epsilon": i["final_epsilon"],
                           "exact": i["final_epsilon"] == 0, "simulations": i["simulations"],
                           "misses": ";".join(k for k, v in i["record"].items()
                                              if v < 1) or "-"}
                          for i in infos])
    table = table.merge(extra, on="repeat")
    summary = coverage(table, level)
    meta = {
        **software_versions(), "calibration": cal.describe(), "seed": cal.seed,
        "recovery": {"repeats": repeats, "level": level, "key": RECOVERY_KEY,
                     "exact_repeats": int(extra["exact"].sum()),
                     "mean_ess": float(table.drop_duplicates("repeat")["ess"].mean()),
                     "population": cal.population,
                     "targets": list(cal.fit),
                     "coverage": {r.parameter: r.coverage for r in summary.itertuples()}},
        "hashes": {"calibration_file": _sha(cal.text), "patterns_file": _sha(cal.targets_text),
                   "base_scenario": cal.base.digest, "combined": digest},
        "seconds_this_session": time.perf_counter() - started, "resumed": resume,
        **sampler_facts(workers, scheduler),
    }
    publish(work, {"recovery.csv": table, "recovery_summary.csv": summary}, meta, figures)
    if work != out:
        outdir.promote_pending(out)
    return {"table": table, "summary": summary, "repeats": infos, "meta": meta}
