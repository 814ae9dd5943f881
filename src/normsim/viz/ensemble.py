"""The page's ensemble: R replicates on the batch engine and their statistics, no Solara here.

:func:`summarize` and :func:`difference` are pure: they read the runs and steps tables of
any set of runs (``run_scenario``'s, a sweep point's, a folder's), so they are tested
without a browser. :func:`run_ensemble` runs the replicates and summarises them.

Intervals: a probability's 95% interval is Wilson's score interval
(:func:`normsim.analysis.intervals.wilson_interval`); the difference of two probabilities
(this setting minus the pinned baseline) gets Newcombe's (1998, method 10) hybrid score
interval, built from the two Wilson intervals. Newcombe's interval assumes independent
samples. The page runs both settings from the same master seed (common random numbers),
which correlates them positively, so the interval is conservative (too wide, never too
narrow) for the page's comparisons.

A posterior ensemble (``normsim viz --posterior DIR``): :func:`run_ensemble` given the
posterior's draws spreads the R replicates over them (replicate ``r`` runs draw ``r % D``,
so R = D is one run per draw) through
:func:`normsim.experiments.posterior.run_posterior`, and passes the pooled tables to
:func:`summarize` unchanged. Its probabilities are then posterior-predictive: the Wilson
interval is over the pooled runs, which carry the parameter uncertainty with them; the
ensemble's :attr:`Ensemble.posterior` says what it was.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from normsim.analysis.intervals import wilson_interval

if TYPE_CHECKING:
    from normsim.experiments.posterior import Draws
    from normsim.scenario import Scenario

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
"""Quantiles of the fan chart: the 90% band, the 50% band and the median."""
DEFAULT_REPLICATES = 500
"""Replicates per ensemble update (the page's R control starts here)."""


@dataclass(frozen=True)
class Probability:
    """A share of runs with its 95% Wilson interval.

    Attributes:
        k: runs in which the event happened.
        n: runs.
        lo: lower end of the 95% interval.
        hi: upper end of the 95% interval.
    """

    k: int
    n: int
    lo: float
    hi: float

    @property
    def p(self) -> float:
        """The share ``k / n`` (NaN for no runs)."""
        return self.k / self.n if self.n else math.nan

    def text(self) -> str:
        """``"42.0% [37.8, 46.4]"``: the share and its interval, in percent."""
        return f"{self.p:.1%} [{100 * self.lo:.1f}, {100 * self.hi:.1f}]"


def probability(flags: pd.Series | np.ndarray) -> Probability:
    """The share of true flags with its 95% Wilson interval.

    Args:
        flags: one boolean per run.

    Returns:
        The probability.
    """
    values = np.asarray(flags, dtype=bool)
    k, n = int(values.sum()), int(values.size)
    lo, hi = wilson_interval(k, n)
    return Probability(k, n, float(lo), float(hi))


@dataclass(frozen=True)
class Difference:
    """A difference of two probabilities with its 95% Newcombe (hybrid score) interval.

    Attributes:
        d: ``p1 - p2``.
        lo: lower end of the 95% interval.
        hi: upper end of the 95% interval.
    """

    d: float
    lo: float
    hi: float

    def text(self) -> str:
        """``"+12.0 pp [+6.1, +17.8]"``: in percentage points."""
        return f"{100 * self.d:+.1f} pp [{100 * self.lo:+.1f}, {100 * self.hi:+.1f}]"


def difference(p1: Probability, p2: Probability) -> Difference:
    """Newcombe's (1998, method 10) interval of ``p1 - p2`` from the two Wilson intervals.

    Args:
        p1: this setting's probability.
        p2: the baseline's probability.

    Returns:
        The difference and its 95% interval (assumes independent samples; see the module
        docstring for the page's common random numbers).
    """
    d = p1.p - p2.p
    lower = math.sqrt((p1.p - p1.lo) ** 2 + (p2.hi - p2.p) ** 2)
    upper = math.sqrt((p1.hi - p1.p) ** 2 + (p2.p - p2.lo) ** 2)
    return Difference(d, max(-1.0, d - lower), min(1.0, d + upper))


@dataclass(frozen=True)
class Ensemble:
    """What the page shows of R replicates of one setting.

    Attributes:
        label: the setting in words (scenario and the levers that differ from it).
        years: the calendar year of every step, shape ``(T + 1,)``.
        fan: the adopter share's quantiles (:data:`QUANTILES`) per year, shape
            ``(len(QUANTILES), T + 1)``.
        tipping_share: the scenario's tipping share (the fan chart's line).
        cascade: P(the region tipped into cascade by the last year).
        adoption: P(institutional adoption by the last year).
        blockers: (code, runs) of the states that blocked the last failed vote of a run,
            most frequent first.
        tipping_years: (year, runs) of the runs that tipped, by the year they tipped.
        posterior: what the runs were drawn over, in words (empty: one scenario's
            parameters as written).
    """

    label: str
    years: np.ndarray
    fan: np.ndarray
    tipping_share: float
    cascade: Probability
    adoption: Probability
    blockers: tuple[tuple[str, int], ...]
    tipping_years: tuple[tuple[int, int], ...]
    posterior: str = ""

    @property
    def n(self) -> int:
        """The number of runs."""
        return self.cascade.n

    @property
    def end_year(self) -> int:
        """The last year of the runs (the horizon of the probabilities)."""
        return int(self.years[-1])


def summarize(runs: pd.DataFrame, steps: pd.DataFrame, *, tipping_share: float,
              label: str = "") -> Ensemble:
    """The ensemble statistics of a regional scenario's runs and steps tables.

    Args:
        runs: the runs table (``cascade_reached``, ``institutional_adoption``,
            ``blockers``, ``tipping_year``).
        steps: the steps table (``run_id``, ``year``, ``adopter_share``).
        tipping_share: the scenario's tipping share.
        label: the setting in words.

    Returns:
        The ensemble.
    """
    wide = steps.pivot(index="run_id", columns="year", values="adopter_share")
    fan = np.quantile(wide.to_numpy(dtype=float), QUANTILES, axis=0)
    blocked = Counter(code for row in runs["blockers"] for code in row)
    tipped = Counter(int(y) for y in runs["tipping_year"].dropna())
    return Ensemble(
        label=label,
        years=wide.columns.to_numpy(dtype=int),
        fan=fan,
        tipping_share=float(tipping_share),
        cascade=probability(runs["cascade_reached"]),
        adoption=probability(runs["institutional_adoption"]),
        blockers=tuple(sorted(blocked.items(), key=lambda item: (-item[1], item[0]))),
        tipping_years=tuple(sorted(tipped.items())),
    )


def run_ensemble(scenario: Scenario, replicates: int = DEFAULT_REPLICATES, seed: int = 0,
                 label: str = "", *, draws: Draws | None = None,
                 prepare: Callable[[Scenario], Scenario] | None = None) -> Ensemble:
    """Run ``replicates`` replicates of a regional scenario on the batch engine; summarise.

    Args:
        scenario: the :class:`~normsim.scenario.Scenario` (levers already applied, or,
            with ``draws``, applied by ``prepare``).
        replicates: R, the number of replicates.
        seed: the master seed (replicate seeds are spawned from it).
        label: the setting in words.
        draws: posterior draws to spread the R replicates over (replicate ``r`` runs draw
            ``r % D``); each draw's values are applied to ``scenario`` first.
        prepare: with ``draws``, applied to each draw's scenario after the draw (the
            levers, so that they change the scenario under the drawn parameters).

    Returns:
        The ensemble.
    """
    if draws is None:
        from normsim.experiments.replicates import run_scenario

        results = run_scenario(prepare(scenario) if prepare else scenario, replicates, seed,
                               agents=False)
        return summarize(results.runs, results.steps,
                         tipping_share=scenario.data["region"]["tipping_share"], label=label)
    from normsim.experiments.posterior import run_posterior, spread

    results = run_posterior(scenario, draws, spread(replicates, len(draws)), seed,
                            agents=False, prepare=prepare)
    tipping = results.metadata["scenario_resolved"]["region"]["tipping_share"]
    if prepare is not None:  # the levers may move the tipping share
        tipping = prepare(draws.apply(scenario, 0)).data["region"]["tipping_share"]
    used = min(replicates, len(draws))
    stats = summarize(results.runs, results.steps, tipping_share=tipping, label=label)
    return replace(stats, posterior=(
        f"posterior ensemble: {replicates} runs over {used} parameter sets drawn from the "
        f"calibration {draws.calibration} ({draws.folder})"))


# --------------------------------------------------------------------------- threshold


@dataclass(frozen=True)
class CascadeSizes:
    """The threshold page's ensemble: the distribution of cascade sizes over replicates.

    Attributes:
        label: the setting in words.
        sizes: the final adopter share of every run.
        tipping_share: the scenario's cascade share.
        cascade: P(the final share reached the cascade share).
    """

    label: str
    sizes: np.ndarray
    tipping_share: float
    cascade: Probability

    @property
    def n(self) -> int:
        """The number of runs."""
        return int(self.sizes.size)


def cascade_sizes(runs: pd.DataFrame, *, tipping_share: float, label: str = "") -> CascadeSizes:
    """The cascade sizes of a threshold scenario's runs table.

    Args:
        runs: the runs table (``final_adopter_share``, ``cascade_reached``).
        tipping_share: the scenario's cascade share.
        label: the setting in words.

    Returns:
        The distribution.
    """
    return CascadeSizes(label, runs["final_adopter_share"].to_numpy(dtype=float),
                        float(tipping_share), probability(runs["cascade_reached"]))
