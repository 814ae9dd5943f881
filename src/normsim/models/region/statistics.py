"""Pattern statistics straight from the trajectories: the calibration's fast path.

The statistics of :mod:`normsim.analysis.patterns` (their meaning is documented there) read
the runs, steps and agents tables. A calibration particle needs only their values, so
:func:`values` computes the same values from the stacked trajectories
(:meth:`~normsim.models.region.dynamics.Trajectory.arrays`), without building a table:
``tests/test_statistics.py`` holds the two paths equal, statistic by statistic. A value is
1.0 (true), 0.0 (false) or NaN (the statistic does not apply to the run).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from normsim.analysis.patterns import PatternDataError, adopters_rule
from normsim.models.region.dynamics import (
    ADOPTED,
    ADOPTER,
    CASCADE,
    FAILED,
    WITHDRAWN,
    Summit,
)
from normsim.models.region.norms import RegionalStage

OUTCOMES = {"adopted": ADOPTED, "failed": FAILED, "withdrawn": WITHDRAWN}
"""A summit outcome's name (``steps.summit``) and its code."""
STAGES = {s.name.lower(): int(s) for s in RegionalStage}
"""A regional stage's name (``steps.regional_stage``) and its code."""


class Runs:
    """The stacked trajectories of ``R`` runs, read by calendar year.

    Args:
        arrays: :meth:`Trajectory.arrays` of the runs (replicate axis first).
        codes: the member states' codes, in the state axis' order.
        start_year: the calendar year of step 0.
        version_keys: the proposal's versions, most ambitious first.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], codes: Sequence[str],
                 start_year: int, version_keys: Sequence[str]):
        self.arrays, self.codes = arrays, list(codes)
        self.start_year, self.version_keys = start_year, list(version_keys)
        self.holds = arrays["stage"] >= ADOPTER  # (R, T + 1, N)
        self.steps = self.holds.shape[1]

    def step(self, year: int) -> int:
        """The step of a calendar year the runs hold, else :class:`PatternDataError`."""
        step = year - self.start_year
        if not 0 <= step < self.steps:
            span = f"{self.start_year}–{self.start_year + self.steps - 1}" if self.steps else \
                "none"
            raise PatternDataError(f"year {year} is not in the runs (years {span})")
        return step

    def states(self, codes: Sequence[str]) -> np.ndarray:
        """The state-axis indices of those of ``codes`` the scenario has."""
        return np.array([i for i, c in enumerate(self.codes) if c in set(codes)], dtype=int)

    def versions(self, keys: Sequence[str]) -> np.ndarray:
        """The version codes of those of ``keys`` the scenario has."""
        return np.array([v for v, k in enumerate(self.version_keys) if k in set(keys)],
                        dtype=int)

    def tipping_step(self) -> np.ndarray:
        """(R,) the first step in cascade or beyond, -1 if none (``runs.tipping_step``)."""
        tipped = self.arrays["regional"] >= CASCADE
        return np.where(tipped.any(axis=1), tipped.argmax(axis=1), -1)


def _summit(stat: Mapping[str, Any], runs: Runs) -> np.ndarray:
    years = stat["years"] if stat.get("years") is not None else [stat["year"]]
    steps = [runs.step(y) for y in years]
    summit = runs.arrays["summit"][:, steps]  # (R, Y)
    hit = summit != int(Summit.NONE)
    if stat.get("outcome"):
        hit &= np.isin(summit, [OUTCOMES[o] for o in stat["outcome"]])
    tabled = runs.arrays["version_tabled"][:, steps]
    if stat.get("version"):
        hit &= np.isin(tabled, runs.versions([stat["version"]]))
    if stat.get("tabled_not"):
        hit &= ~np.isin(tabled, runs.versions(stat["tabled_not"]))
    blockers = set(stat.get("blockers_include") or [])
    if blockers:
        present = runs.states(sorted(blockers))
        blocked = runs.arrays["blockers"][:, steps][:, :, present].sum(axis=2)
        hit &= blocked == len(blockers)
    return hit.any(axis=1).astype(float)


def _adopters(stat: Mapping[str, Any], runs: Runs) -> np.ndarray:
    holds = runs.holds[:, runs.step(stat["year"])]  # (R, N)

    def held(codes: Sequence[str]) -> np.ndarray:
        return holds[:, runs.states(codes)].sum(axis=1)

    return adopters_rule(stat, holds.sum(axis=1), held).astype(float)


def _version_adopted(stat: Mapping[str, Any], runs: Runs) -> np.ndarray:
    wanted = [stat["version"]] if stat.get("version") else list(stat["versions"])
    is_version = np.isin(runs.arrays["institution_version"], runs.versions(wanted))
    ever = is_version.any(axis=1)
    first = np.where(ever, runs.start_year + is_version.argmax(axis=1), 0)
    if stat.get("between") is not None:
        low, high = stat["between"]
        adopted = ever & (first >= low) & (first <= high)
    else:
        adopted = ever & (first <= stat["by"])
    return (adopted if stat.get("adopted", True) else ~adopted).astype(float)


def _regional_stage(stat: Mapping[str, Any], runs: Runs) -> np.ndarray:
    if stat.get("never_tipped_by") is not None:
        tip = runs.tipping_step()
        tipped = (tip >= 0) & (runs.start_year + tip <= stat["never_tipped_by"])
        return (~tipped).astype(float)
    regional = runs.arrays["regional"][:, runs.step(stat["year"])]
    return np.isin(regional, [STAGES[s] for s in stat["stage"]]).astype(float)


def _support_broader(stat: Mapping[str, Any], runs: Runs) -> np.ndarray:
    earlier, later = runs.step(stat["earlier"]), runs.step(stat["later"])
    if stat.get("measure", "mean_support") == "mean_support":
        level = runs.arrays["support"].mean(axis=2)  # as steps.mean_support
    else:
        near = runs.arrays["support"] >= runs.arrays["threshold"] - stat.get("margin", 0.1)
        level = near.sum(axis=2)
    return (level[:, later] > level[:, earlier]).astype(float)


def _speedup_after_tipping(stat: Mapping[str, Any], runs: Runs) -> np.ndarray:
    window = stat.get("window", 3)
    start, end = runs.start_year, runs.start_year + runs.steps - 1
    holds = runs.holds
    ever = holds.any(axis=1)  # (R, N)
    first = np.where(ever, start + holds.argmax(axis=1), start)  # a state's first year
    adopts = ever & (first > start)  # the start year's holders are not adoptions
    tip = runs.tipping_step()
    tipped = tip >= 0
    tip_year = start + np.where(tipped, tip, 0)
    offset = first - tip_year[:, None]
    before_n = (adopts & (offset >= -window) & (offset < 0)).sum(axis=1)
    after_n = (adopts & (offset > 0) & (offset <= window)).sum(axis=1)
    years_before = np.clip(tip_year - np.maximum(tip_year - window, start + 1), 0, None)
    years_after = np.clip(np.minimum(tip_year + window, end) - tip_year, 0, None)
    applies = tipped & (years_before > 0) & (years_after > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        before = before_n / years_before
        after = after_n / years_after
    return np.where(applies, (after > before).astype(float), np.nan)


STATISTICS = {
    "summit": _summit,
    "adopters": _adopters,
    "version_adopted": _version_adopted,
    "regional_stage": _regional_stage,
    "support_broader": _support_broader,
    "speedup_after_tipping": _speedup_after_tipping,
}
"""Each statistic kind of :data:`normsim.analysis.patterns.STATISTICS`, on the arrays."""


def values(stat: Mapping[str, Any], runs: Runs) -> np.ndarray:
    """(R,) a statistic's value in each run: 1.0, 0.0, or NaN where it does not apply.

    Raises:
        PatternDataError: the runs do not hold a year the statistic reads.
        KeyError: an unknown statistic kind.
    """
    return STATISTICS[stat["kind"]](stat, runs)
