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

LEVERS = {  # lever: (overrides, least and largest effect on P(cascade by 2035))
    "localization framing": ({"norm.framing": "localized"}, 0.15, 0.35),
    "a co-entrepreneur (Malaysia)": ({"entrepreneurs.MYS.intensity": 0.4}, 0.07, 0.20),
    "a regional crisis in 2026": ({"events": [{"type": "crisis", "year": 2026}]}, 0.10, 0.25),
    "a UN partnership push in 2026": ({"events": [{"type": "un_push", "year": 2026}]},
                                      0.01, 0.08),
}
"""Effect bands set around the effects measured with the earlier random streams (seed
20260101: +24.8, +12.5, +16.8 and +3.4 points over a baseline of 2.1%), about +-4 standard
errors of a difference wide; the streams in blocks (issue 11) measure +20.6, +12.0, +15.4
and +4.2 over 2.9%, inside every band."""


@pytest.mark.parametrize("lever", LEVERS)
def test_each_lever_raises_the_cascade_probability_by_2035(today, lever):
    """Tolerance: one-sided two-proportion z > 2.33 (p < 0.01), 1,000 runs each, and the
    effect P(lever) - P(baseline) within the lever's stated band."""
    overrides, least, most = LEVERS[lever]
    _, base = _p(today)
    _, raised = _p(today.with_overrides(overrides))
    assert _z(raised, base) > 2.33, (lever, base, raised)
    assert least <= (raised - base) / REPLICATES <= most, (lever, base, raised)


def test_a_lukewarm_co_entrepreneur_is_no_mechanical_head_start(today):
    """Vietnam (support 0.25) as co-entrepreneur: its support is not pinned, so it is no
    adopter by fiat and persuades in proportion to its support. Tolerance: the effect on
    P(cascade by 2035) is below 5 points (it was +35 points when the role pinned support)."""
    from normsim.models.region.schema import lever_overrides

    _, base = _p(today)
    _, co = _p(today.with_overrides(lever_overrides(today, co_entrepreneur="VNM")))
    assert (co - base) / REPLICATES < 0.05, (base, co)


def test_without_any_entrepreneur_the_cascade_probability_stays_near_zero(today):
    """Tolerance: upper 95% bound of P(cascade by 2035) < 2%."""
    _, k = _p(today.with_overrides({"entrepreneurs": {}}))
    assert _upper(k) < 0.02


# --------------------------------------------------------------------------- issue 10


def test_history_the_training_network_is_adopted_around_2011_and_the_force_is_not(history):
    """002:665 (the APCN, 2011) from the summit rule, not a scheduled adoption: the lesser
    version passes when no member objects to it. Tolerance: in most runs (P > 0.5, lower
    95% bound) the training network is first adopted in 2010-2013 and the force not by 2023."""
    res = run_scenario(history, REPLICATES, 2003)
    steps = res.steps
    first = steps[steps["institution_version"] == "training_network"].groupby("run_id")[
        "year"].min().reindex(res.runs["run_id"])
    match = first.between(2010, 2013).to_numpy() & ~res.runs["institutional_adoption"]
    assert wilson_interval(int(match.sum()), REPLICATES)[0] > 0.5


def test_history_by_2014_no_state_but_indonesia_holds_the_norm(history):
    """SIPRI, April 2014: "no other country yet supports it" (004:876-878). Tolerance: the
    holders in 2014 are exactly {IDN} in most runs (lower 95% bound > 0.5)."""
    res = run_scenario(history, REPLICATES, 2003)
    agents = res.agents[(res.agents["year"] == 2014)
                        & res.agents["stage"].isin(["adopter", "internalized"])]
    holders = agents.groupby("run_id")["state"].agg(lambda s: frozenset(map(str, s)))
    match = holders.reindex(res.runs["run_id"]).map(lambda h: h == frozenset({"IDN"}))
    assert wilson_interval(int(match.sum()), REPLICATES)[0] > 0.5
