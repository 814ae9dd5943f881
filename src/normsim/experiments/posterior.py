"""Runs under a calibration's posterior: the one home of posterior draws.

A folder written by ``normsim calibrate`` holds the last generation's weighted particles
(``posterior.parquet``: one column per fitted parameter, ``weight``) and, in
``metadata.json``, the fitted parameters (``calibration.priors``: name, dotted scenario key,
prior). :func:`load_posterior` reads such a folder, with a one-line error for each way it
can be unusable; :meth:`Posterior.draw` draws D parameter sets from it; the result,
:class:`Draws`, is small and picklable, so sweep tasks carry it to their workers.

Draws: ``numpy.random.default_rng(run_seed(seed, DRAW_KEY))`` picks D particles with
probability proportional to their weights, with replacement (:data:`DRAW_KEY` keeps this
stream apart from every run's). The same posterior, D and seed give the same draws, on any
machine; :attr:`Draws.digest` identifies them (a sweep's resume checks it).

A draw's values are applied to a scenario as dotted-key overrides
(:meth:`Draws.apply`): only the fitted keys, so the scenario may be another one than the
calibration's base (a posterior fitted on asean-2003 applied to asean-2024). Levers and a
sweep point's values are applied after the draw, so an explicit choice wins.

:func:`run_posterior` runs replicates of each draw through
:func:`~normsim.experiments.replicates.run_scenario` (``normsim run --posterior``, the
page's ensemble, ``normsim figures``). Draw ``d`` runs with master seed
``run_seed(seed, d)``, so its replicate ``r`` has the seed ``run_seed(run_seed(seed, d), r)``.
The tables get ``draw_id`` (every table) and the drawn values (the runs table, one column
per fitted parameter); run ids are numbered through the draws. A sweep spreads each point's
replicates over the draws instead (:mod:`normsim.experiments.tasks`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from normsim.results import Results, make_metadata
from normsim.scenario import Scenario, ScenarioError
from normsim.schema import Problem
from normsim.seeds import run_seed, scheme

POSTERIOR_FILE = "posterior.parquet"
METADATA_FILE = "metadata.json"
DRAW_KEY = 0xC0FFEE
"""Spawn key of the generator that picks the draws (apart from every run's key)."""


class PosteriorError(ValueError):
    """A folder that holds no usable posterior, or a scenario that cannot take it."""


@dataclass(frozen=True)
class Fitted:
    """One fitted parameter: its column name and dotted scenario key."""

    name: str
    key: str


@dataclass(frozen=True)
class Draws:
    """D parameter sets drawn from a posterior: what a run or sweep needs of it.

    Attributes:
        calibration: the calibration's name.
        calibration_hash: the calibration's combined hash (its files, base, budget).
        posterior_digest: SHA-256 of the posterior's particles and weights.
        seed: the seed the draws were made with.
        fitted: the fitted parameters, in the calibration's order.
        particles: the particle (row of ``posterior.parquet``) of each draw.
        values: each draw's values, in :attr:`fitted` order.
        folder: the calibration folder, as given (not part of :meth:`describe`).
    """

    calibration: str
    calibration_hash: str | None
    posterior_digest: str
    seed: int
    fitted: tuple[Fitted, ...]
    particles: tuple[int, ...]
    values: tuple[tuple[float, ...], ...]
    folder: str = ""

    def __len__(self) -> int:
        return len(self.values)

    @property
    def names(self) -> tuple[str, ...]:
        """The fitted parameters' column names."""
        return tuple(f.name for f in self.fitted)

    @property
    def keys(self) -> tuple[str, ...]:
        """The fitted parameters' dotted scenario keys."""
        return tuple(f.key for f in self.fitted)

    def overrides(self, draw: int) -> dict[str, float]:
        """The dotted-key overrides of one draw."""
        return dict(zip(self.keys, self.values[draw], strict=True))

    def named(self, draw: int) -> dict[str, float]:
        """One draw's values by parameter name (the runs table's columns)."""
        return dict(zip(self.names, self.values[draw], strict=True))

    def apply(self, scenario: Scenario, draw: int) -> Scenario:
        """The scenario with one draw's values applied (only the fitted keys change)."""
        return scenario.with_overrides(self.overrides(draw))

    def table(self) -> pd.DataFrame:
        """One row per draw: ``draw_id``, ``particle`` and the drawn values."""
        frame = pd.DataFrame(list(self.values), columns=list(self.names), dtype=float)
        frame.insert(0, "particle", np.asarray(self.particles, dtype=np.int64))
        frame.insert(0, "draw_id", np.arange(len(self), dtype=np.int64))
        return frame

    @property
    def digest(self) -> str:
        """SHA-256 of :meth:`describe`: equal digests, equal draws."""
        canonical = json.dumps(self.describe(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        """What defines the draws, as a plain mapping (metadata; a sweep's resume check).

        The folder's path is left out: the same posterior moved elsewhere is the same.
        """
        return {
            "calibration": self.calibration,
            "calibration_hash": self.calibration_hash,
            "posterior_digest": self.posterior_digest,
            "draws": len(self),
            "seed": self.seed,
            "fitted": {f.name: f.key for f in self.fitted},
            "draw_scheme": f"numpy.random.default_rng(run_seed(seed, {DRAW_KEY:#x})).choice("
                           "particles, size=draws, p=weight / sum(weight))",
        }

    def check(self, scenario: Scenario) -> list[Problem]:
        """What keeps a scenario from taking the draws: a fitted key it lacks or refuses.

        Every draw is applied in turn (cheap: one validation each), so a value outside
        the scenario's own range is named before anything runs.
        """
        from normsim.models import get_kind
        from normsim.schema import spec_at

        schema = get_kind(scenario.kind).schema
        problems = [Problem(f.key, f"fitted parameter {f.name} has no such key in "
                                   f"{scenario.name}")
                    for f in self.fitted if spec_at(schema, f.key, scenario.data) is None
                    or not _present(scenario.data, f.key)]
        if problems:
            return problems
        for d in range(len(self)):
            try:
                self.apply(scenario, d)
            except ScenarioError as err:
                return [Problem(q.path, f"draw {d}: {q.message}") for q in err.problems]
        return []


def _present(data: dict[str, Any], key: str) -> bool:
    """Whether a dotted key names a value of the (validated, defaults filled) data.

    A key under a mapping of members (``states.SGP.support``) exists in the schema of every
    regional scenario, but only in the data of a scenario that has that member.
    """
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@dataclass(frozen=True)
class Posterior:
    """A calibration's posterior: the weighted particles and the fitted parameters.

    Attributes:
        folder: the calibration folder.
        calibration: the calibration's name.
        calibration_hash: its combined hash, if recorded.
        fitted: the fitted parameters.
        particles: ``posterior.parquet``: one column per fitted parameter, ``weight``.
        priors: the priors as ``metadata.json`` describes them.
    """

    folder: Path
    calibration: str
    calibration_hash: str | None
    fitted: tuple[Fitted, ...]
    particles: pd.DataFrame
    priors: tuple[dict[str, Any], ...]

    @property
    def digest(self) -> str:
        """SHA-256 of the particles' values and weights, in the fitted order."""
        names = [f.name for f in self.fitted]
        h = hashlib.sha256(json.dumps([names, [f.key for f in self.fitted]]).encode())
        h.update(np.ascontiguousarray(self.particles[[*names, "weight"]].to_numpy(
            dtype=np.float64)).tobytes())
        return h.hexdigest()

    def draw(self, draws: int, seed: int) -> Draws:
        """D weighted draws (with replacement) from a seeded generator (module docstring)."""
        if draws < 1:
            raise ValueError(f"draws must be at least 1, got {draws}")
        w = self.particles["weight"].to_numpy(dtype=float)
        rng = np.random.default_rng(run_seed(seed, DRAW_KEY))
        picks = rng.choice(len(w), size=draws, p=w / w.sum())
        names = [f.name for f in self.fitted]
        table = self.particles[names].to_numpy(dtype=float)
        return Draws(self.calibration, self.calibration_hash, self.digest, seed, self.fitted,
                     tuple(int(i) for i in picks),
                     tuple(tuple(float(v) for v in table[i]) for i in picks),
                     str(self.folder))


def load_posterior(folder: str | Path) -> Posterior:
    """Read a folder written by ``normsim calibrate``.

    Raises:
        PosteriorError: one line saying what is wrong: not a folder, an unfinished
            calibration (no metadata.json or posterior.parquet), a metadata.json that is
            not a calibration's, a posterior without a fitted parameter's column, or
            weights that are not positive numbers.
    """
    folder = Path(folder)
    where = f"--posterior {folder}"
    if not folder.is_dir():
        raise PosteriorError(f"{where}: no such folder; give a folder written by "
                             "normsim calibrate")
    meta_file, post_file = folder / METADATA_FILE, folder / POSTERIOR_FILE
    if not meta_file.is_file() or not post_file.is_file():
        missing = " and ".join(f.name for f in (meta_file, post_file) if not f.is_file())
        raise PosteriorError(f"{where}: no finished calibration here ({missing} missing); "
                             "give a folder written by normsim calibrate (an interrupted "
                             "one: finish it with normsim calibrate ... --resume)")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        priors = meta["calibration"]["priors"]
        fitted = tuple(Fitted(str(p["name"]), str(p["key"])) for p in priors)
    except (ValueError, KeyError, TypeError):
        raise PosteriorError(f"{where}: metadata.json is not a calibration's (no "
                             "calibration.priors); give a folder written by normsim "
                             "calibrate") from None
    if not fitted:
        raise PosteriorError(f"{where}: the calibration fitted no parameters")
    try:
        particles = pd.read_parquet(post_file)
    except (OSError, ValueError) as err:
        raise PosteriorError(f"{where}: posterior.parquet cannot be read ({err})") from None
    missing = [name for name in (*(f.name for f in fitted), "weight")
               if name not in particles.columns]
    if missing:
        raise PosteriorError(f"{where}: posterior.parquet lacks the column(s) "
                             f"{', '.join(missing)} that metadata.json names; the files do "
                             "not belong together")
    w = pd.to_numeric(particles["weight"], errors="coerce").to_numpy(dtype=float)
    if len(w) == 0 or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise PosteriorError(f"{where}: posterior.parquet has no particles with positive, "
                             "finite weights")
    cal = meta["calibration"]
    return Posterior(folder, str(cal.get("name", folder.name)),
                     (meta.get("hashes") or {}).get("combined"), fitted,
                     particles.reset_index(drop=True), tuple(priors))


def posterior_draws(folder: str | Path, draws: int, seed: int,
                    scenario: Scenario | None = None) -> Draws:
    """Load a posterior, draw from it and, if given, check that ``scenario`` takes the draws.

    Raises:
        PosteriorError: the folder holds no usable posterior, or the scenario lacks or
            refuses a fitted key (every problem named, in one line).
    """
    chosen = load_posterior(folder).draw(draws, seed)
    if scenario is not None:
        problems = chosen.check(scenario)
        if problems:
            raise PosteriorError(f"--posterior {folder}: the scenario {scenario.name} cannot "
                                 "take the fitted parameters: " + "; ".join(
                                     f"{q.path}: {q.message}" for q in problems))
    return chosen


def spread(replicates: int, draws: int) -> list[int]:
    """Runs per draw when ``replicates`` runs are spread over ``draws`` draws.

    Run ``r`` goes to draw ``r % draws``, so the first ``replicates % draws`` draws get one
    run more, and with fewer runs than draws only the first ``replicates`` draws run.
    """
    return [len(range(d, replicates, draws)) for d in range(draws)]


def run_posterior(
    scenario: Scenario,
    draws: Draws,
    runs_per_draw: int | Sequence[int],
    seed: int = 0,
    *,
    engine: str = "batch",
    agents: bool = True,
    progress: bool = False,
    prepare: Callable[[Scenario], Scenario] | None = None,
) -> Results:
    """Run replicates of each posterior draw of a scenario; one set of result tables.

    Args:
        scenario: the scenario; each draw's values are applied to it (:meth:`Draws.apply`).
        draws: the posterior draws.
        runs_per_draw: replicates of every draw, or one count per draw (0 skips a draw).
        seed: the master seed; draw ``d`` runs with master seed ``run_seed(seed, d)``.
        engine: the kind's engine.
        agents: write the agents table.
        progress: a progress bar over the draws.
        prepare: applied to each draw's scenario after the draw (the page's levers).

    Returns:
        The runs, steps and agents tables with ``draw_id`` in front, the runs table with
        the drawn values after its outcomes, and the metadata with a ``posterior`` record.
    """
    from tqdm.auto import tqdm

    from normsim.experiments.replicates import run_scenario

    counts = ([int(runs_per_draw)] * len(draws) if isinstance(runs_per_draw, int | np.integer)
              else [int(c) for c in runs_per_draw])
    if len(counts) != len(draws):
        raise ValueError(f"{len(counts)} run counts for {len(draws)} draws")
    tables: dict[str, list[pd.DataFrame]] = {"runs": [], "steps": [], "agents": []}
    offset = 0
    for d in tqdm(range(len(draws)), desc=scenario.name, unit="draw", disable=not progress,
                  dynamic_ncols=True, mininterval=0.5):
        if counts[d] == 0:
            continue
        chosen = draws.apply(scenario, d)
        if prepare is not None:
            chosen = prepare(chosen)
        res = run_scenario(chosen, counts[d], run_seed(seed, d), engine=engine, agents=agents)
        for name, parts in tables.items():
            table = getattr(res, name)
            if table is None:
                continue
            table = table.copy()
            table["run_id"] = table["run_id"] + offset
            table.insert(0, "draw_id", np.int64(d))
            if name == "runs":
                for column, value in draws.named(d).items():
                    table[column] = value
            parts.append(table)
        offset += counts[d]
    runs = pd.concat(tables["runs"], ignore_index=True)
    steps = pd.concat(tables["steps"], ignore_index=True)
    agents_table = pd.concat(tables["agents"], ignore_index=True) if tables["agents"] else None
    meta = make_metadata(scenario, seed, len(runs), engine, scenario.steps)
    meta["seed_scheme"] = ("draw d runs with master seed run_seed(master_seed, d); its "
                           + scheme(master="that seed"))
    meta["posterior"] = {
        **draws.describe(), "folder": Path(draws.folder).name,
        "runs_per_draw": counts[0] if len(set(counts)) == 1 else counts,
        "draws_table": draws.table().to_dict(orient="list"),
    }
    return Results(runs, steps, agents_table, meta)
