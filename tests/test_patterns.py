"""Pattern-oriented validation (MODEL-BRIEF §7) as statistical tests over 1,000 replicates.

Nothing here is hard-coded into the model: each pattern must follow from the mechanisms and
the calibration. Tolerances are stated per test, as bounds of 95% Wilson intervals or as
one-sided two-proportion z-tests at the 1% level.
"""

import numpy as np
import pytest

from normsim.analysis.intervals import wilson_interval
from normsim.experiments.replicates import run_scenario
from normsim.models.region import run_trajectories
from normsim.seeds import replicate_seeds

REPLICATES = 1000
SEED = 20260101


def _p(scenario, column="cascade_reached", seed=SEED):
    runs = run_scenario(scenario, REPLICATES, seed, agents=False).runs
    return runs, int(runs[column].sum())


def _upper(successes: int) -> float:
    return wilson_interval(successes, REPLICATES)[1]


def _z(k_lever: int, k_base: int, n: int = REPLICATES) -> float:
    """One-sided two-proportion z statistic for 'the lever raises the probability'."""
    p1, p0 = k_lever / n, k_base / n
    pooled = (k_lever + k_base) / (2 * n)
    se = np.sqrt(2 * pooled * (1 - pooled) / n)
    return (p1 - p0) / se if se > 0 else 0.0


# --------------------------------------------------------------------------- history


def test_history_the_region_does_not_tip_by_2023_in_most_runs(history):
    """Tolerance: the upper 95% bound of P(cascade by 2023) stays below one half."""
    _, k = _p(history)
    assert _upper(k) < 0.5


@pytest.mark.parametrize("name", ["asean-2003", "asean-2011", "asean-2015"])
def test_history_proposals_do_not_reach_institutional_adoption(name):
    """Tolerance: P(adoption by consensus by 2023) has an upper 95% bound below 10%, and the
    summits of 2003, 2011 and 2015 themselves adopt in (almost) no run: upper bound < 1%."""
    from normsim.scenario import load_scenario

    runs, k = _p(load_scenario(name), "institutional_adoption")
    assert _upper(k) < 0.10
    for year in (2003, 2011, 2015):
        assert _upper(int((runs["adoption_year"] == year).sum())) < 0.01


def test_history_support_in_2015_is_broader_than_in_2003(history):
    """002:729-735: more members came to agree. Tolerance: among the eight states that were
    never entrepreneurs, mean support is higher in 2015 than in 2003 in >= 95% of runs, and
    more of them show support >= 0.3."""
    arrays = run_trajectories(history, replicate_seeds(SEED, REPLICATES))
    start = history.data["start_year"]
    others = [i for i, c in enumerate(history.codes) if c not in ("IDN", "MYS")]
    s2003 = arrays["support"][:, 2003 - start, others]
    s2015 = arrays["support"][:, 2015 - start, others]
    assert (s2015.mean(axis=1) > s2003.mean(axis=1)).mean() >= 0.95
    assert (s2015 >= 0.3).sum(axis=1).mean() > (s2003 >= 0.3).sum(axis=1).mean() + 1


def test_history_apcn_cooperation_alone_produces_no_force(history):
    """The APCN and training-centre cooperation of the 2010s without any entrepreneur.
    Tolerance: upper 95% bound of P(cascade) < 1%, and no run adopts the force."""
    alone = history.with_overrides({"entrepreneurs": {}})
    runs, k = _p(alone)
    assert _upper(k) < 0.01
    assert not runs["institutional_adoption"].any()


# --------------------------------------------------------------------------- levers

LEVERS = {
    "localization framing": {"norm.framing": "localized"},
    "a co-entrepreneur (Malaysia)": {"entrepreneurs.MYS.intensity": 0.4},
    "a regional crisis in 2026": {"events": [{"type": "crisis", "year": 2026}]},
    "a UN partnership push in 2026": {"events": [{"type": "un_push", "year": 2026}]},
}


@pytest.mark.parametrize("lever", LEVERS)
def test_each_lever_raises_the_cascade_probability_by_2035(today, lever):
    """Tolerance: one-sided two-proportion z > 2.33 (p < 0.01), 1,000 runs each."""
    _, base = _p(today)
    _, raised = _p(today.with_overrides(LEVERS[lever]))
    assert _z(raised, base) > 2.33, (lever, base, raised)


def test_without_any_entrepreneur_the_cascade_probability_stays_near_zero(today):
    """Tolerance: upper 95% bound of P(cascade by 2035) < 2%."""
    _, k = _p(today.with_overrides({"entrepreneurs": {}}))
    assert _upper(k) < 0.02
