"""The update rule: invariants, the transition tables, synchronous updating, reproducibility."""

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from normsim.experiments.replicates import run_scenario
from normsim.models.region import run_trajectories
from normsim.models.region.dynamics import advance, initial_state, simulate
from normsim.models.region.norms import (
    REGIONAL_TRANSITIONS,
    STATE_TRANSITIONS,
    RegionalStage,
    StateStage,
    allowed_pairs,
)
from normsim.models.region.params import build_params
from normsim.scenario import ScenarioError
from normsim.seeds import BLOCK, replicate_seeds


def _seeds(n: int, master: int = 0) -> list[int]:
    return replicate_seeds(master, n)


def _moves(series: np.ndarray) -> set[tuple[int, int]]:
    """Every (from, to) stage change in an array with time on axis 1."""
    before, after = series[:, :-1].ravel(), series[:, 1:].ravel()
    changed = before != after
    return set(zip(before[changed].tolist(), after[changed].tolist(), strict=True))


LEVERS = st.fixed_dictionaries({
    "norm.framing": st.sampled_from(["standard", "localized"]),
    "region.tipping_share": st.floats(0.05, 1.0),
    "region.decision": st.one_of(
        st.just({"rule": "consensus"}),
        st.builds(lambda k: {"rule": "max_objectors", "objectors": k}, st.integers(0, 3))),
    "region.retable_interval": st.integers(1, 6),
    "entrepreneurs.IDN.strategy": st.sampled_from(
        ["all", "receptive", "central", "hardliners", "coalition"]),
    "entrepreneurs.IDN.intensity": st.floats(0.0, 3.0),
    "entrepreneurs.IDN.targets": st.integers(1, 12),
    "dynamics.noise": st.floats(0.0, 0.3),
    "dynamics.internalization_years": st.integers(1, 12),
    "dynamics.internalization_relaxation": st.floats(0.0, 0.5),
    "dynamics.identity_drift": st.floats(0.0, 0.3),
    "dynamics.reversal_margin": st.floats(0.0, 0.5),
    "norm.combination": st.builds(lambda rule, p: {"rule": rule, "exponent": p},
                                  st.sampled_from(["mean", "max", "power_mean"]),
                                  st.floats(1.0, 10.0)),
    "region.tipping_rule": st.sampled_from(["count", "weighted"]),
    "mechanisms.versions": st.booleans(),
    "mechanisms.withdrawal": st.booleans(),
    "mechanisms.reversal": st.booleans(),
    "mechanisms.threshold_heterogeneity": st.booleans(),
})


@settings(max_examples=40, deadline=None)
@given(levers=LEVERS, seed=st.integers(0, 2**32))
def test_invariants_hold_for_any_levers(today, levers, seed):
    scenario = today.with_overrides(levers)
    arrays = simulate(build_params(scenario), _seeds(20, seed)).arrays()
    support, stage, regional = arrays["support"], arrays["stage"], arrays["regional"]
    assert ((support >= 0) & (support <= 1)).all()
    assert ((arrays["norms"] >= 0) & (arrays["norms"] <= 1)).all()
    share = (stage >= StateStage.ADOPTER).mean(axis=2)
    assert ((share >= 0) & (share <= 1)).all()
    assert _moves(stage) <= allowed_pairs(STATE_TRANSITIONS)
    assert _moves(regional) <= allowed_pairs(REGIONAL_TRANSITIONS)
    # Internalization is absorbing, for states and for the region.
    internalized = stage == StateStage.INTERNALIZED
    assert not (internalized[:, :-1] & ~internalized[:, 1:]).any()
    # Institutional adoption is never undone and only follows a tabled proposal.
    institution = arrays["institution"]
    assert not (institution[:, :-1] & ~institution[:, 1:]).any()
    first = institution.argmax(axis=1)
    adopted = institution.any(axis=1)
    assert arrays["tabled"][adopted, first[adopted]].all()
    # A state internalizes only while it holds the norm: never with support below its
    # threshold, never before the region has tipped.
    becomes = (stage[:, 1:] == StateStage.INTERNALIZED) & (stage[:, :-1] == StateStage.ADOPTER)
    assert (support[:, 1:][becomes] >= arrays["threshold"][:, 1:][becomes]).all()
    tipped_before = np.broadcast_to((regional[:, :-1] >= RegionalStage.CASCADE)[:, :, None],
                                    becomes.shape)
    assert tipped_before[becomes].all()
    # A version once adopted stays; the adopted version only grows more ambitious.
    version = arrays["institution_version"].astype(int)
    rank = np.where(version < 0, 99, version)
    assert (rank[:, 1:] <= rank[:, :-1]).all()
    assert ((version[:, -1] == 0) == institution[:, -1]).all()


def test_no_entrepreneur_and_no_initial_adopter_means_nobody_adopts(today):
    # Strong pulls and noise everywhere, but no one advocates the norm and no one holds it.
    scenario = today.with_overrides({
        "entrepreneurs": {},
        **{f"states.{c}.support": 0.2 for c in today.codes},
        "dynamics.prestige": 1.0, "dynamics.noise": 0.3, "dynamics.crisis_response": 1.0,
        "salience.crisis": 3.0,
    })
    arrays = run_trajectories(scenario, replicate_seeds(1, 500))
    assert (arrays["support"].max(axis=(0, 2)) > 0.9).any(), "support does rise ..."
    assert (arrays["stage"] == StateStage.RESISTANT).all(), "... but nobody adopts"
    assert not arrays["institution"].any()


def test_a_tipping_share_of_one_means_a_cascade_only_when_all_hold_the_norm(today):
    scenario = today.with_overrides({"region.tipping_share": 1.0,
                                     "entrepreneurs.IDN.intensity": 5.0})
    runs = run_scenario(scenario, 300, 2, agents=False).runs
    everyone = runs["peak_adopter_share"] == 1.0
    assert everyone.any() and not everyone.all(), "the test needs both kinds of run"
    assert (runs["cascade_reached"] == everyone).all()


def test_tipping_is_read_as_adopters_over_n_at_least_one_third(today):
    params = build_params(today)
    state = initial_state(params, _seeds(3))
    idx = {c: i for i, c in enumerate(params.codes)}
    for k, adopters in enumerate((["IDN", "MYS", "THA"], ["IDN", "MYS", "THA", "VNM"],
                                  ["IDN", "MYS"])):
        state.stage[:, k] = StateStage.RESISTANT
        state.stage[[idx[c] for c in adopters], k] = StateStage.ADOPTER
    state.support[:] = np.where(state.stage >= StateStage.ADOPTER, 1.0, 0.0)
    state.threshold[:] = 0.5
    advance(state, params)
    assert state.regional.tolist() == [RegionalStage.EMERGENCE, RegionalStage.CASCADE,
                                       RegionalStage.EMERGENCE]


def test_critical_states_weigh_more_when_weighted(today):
    today = today.with_overrides({"dynamics.threshold_sd": 0.0,
                                  **{f"states.{c}.tipping_weight": 1.0 for c in today.codes}})
    heavy = today.with_overrides({"states.IDN.tipping_weight": 3.0,
                                  "states.MYS.tipping_weight": 3.0})
    base_share = run_scenario(today, 400, 3, agents=False).runs["cascade_reached"].mean()
    weighted = heavy.with_overrides({"region.tipping_rule": "weighted"})
    heavy_share = run_scenario(weighted, 400, 3, agents=False).runs["cascade_reached"].mean()
    # IDN and MYS hold the norm from the start: with weight 3 each they make 6/14 >= 1/3.
    assert heavy_share == 1.0 > base_share
    # Under the count rule (the ASEAN files' choice) the weights are not read.
    counted = heavy.with_overrides({"region.tipping_rule": "count"})
    assert run_scenario(counted, 400, 3, agents=False).runs["cascade_reached"].mean() == (
        base_share)


def test_updating_is_synchronous(today):
    """A state that adopts at step t moves its neighbours only from step t + 1."""
    params = build_params(today.with_overrides({"dynamics.neighbour_influence": 0.3,
                                                "dynamics.noise": 0.0}))
    plain = initial_state(params, _seeds(1))
    pushed = copy.deepcopy(plain)
    vnm = params.codes.index("VNM")
    pushed.support[vnm, 0] = 0.99  # crosses its threshold during the next step
    others = [i for i, c in enumerate(params.codes) if c not in ("VNM", "IDN")]  # IDN: pinned
    advance(plain, params)
    advance(pushed, params)
    assert pushed.stage[vnm, 0] == StateStage.ADOPTER != plain.stage[vnm, 0]
    np.testing.assert_array_equal(plain.support[others, 0], pushed.support[others, 0])
    advance(plain, params)
    advance(pushed, params)
    assert (pushed.support[others, 0] > plain.support[others, 0]).all()


def test_adopters_relax_their_conflicting_core_norms(today):
    """Identity drift: sustained adoption relaxes the norms that clash with the new one."""
    arrays = run_trajectories(today.with_overrides({"end_year": 2040}), replicate_seeds(4, 50))
    idn = today.codes.index("IDN")  # the entrepreneur holds the norm throughout
    norms = arrays["norms"][:, :, idn, :]
    conflict = build_params(today).conflict
    relaxed = norms[:, -1].mean(axis=0) < norms[:, 0].mean(axis=0)
    assert (relaxed == (conflict > 0)).all()


def test_consensus_blocks_with_one_objection_and_records_who(today):
    scenario = today.with_overrides({
        "events": [{"type": "proposal", "year": 2025, "by": "IDN"}],
        "states.SGP.support": 0.0, "states.SGP.threshold": 0.9,
        **{f"states.{c}.support": 0.95 for c in today.codes if c != "SGP"},
        "dynamics.noise": 0.0, "dynamics.threshold_sd": 0.0,
    })
    runs = run_scenario(scenario, 5, 0, agents=False).runs
    assert not runs["institutional_adoption"].any()
    assert runs["blockers"].map(list).tolist() == [["SGP"]] * 5
    lenient = scenario.with_overrides({"region.decision": {"rule": "max_objectors",
                                                           "objectors": 1}})
    runs = run_scenario(lenient, 5, 0, agents=False).runs
    assert runs["institutional_adoption"].all()
    assert (runs["adoption_year"] == 2025).all()


def test_same_seed_same_run_whatever_the_batch(history):
    seeds = replicate_seeds(7, 64)
    together = run_trajectories(history, seeds)
    for i in (0, 17, 63):
        alone = run_trajectories(history, [seeds[i]])
        for key, value in together.items():
            np.testing.assert_array_equal(value[i], alone[key][0], err_msg=key)


def _cascading(today):
    """Many adopters, and tipping weights whose sums round: every sum of the rule at work."""
    return today.with_overrides({
        "norm.framing": "localized", "region.tipping_rule": "weighted",
        **{f"states.{c}.tipping_weight": 1.0 + 0.1 * i for i, c in enumerate(today.codes)}})


@pytest.mark.parametrize("name", ["history", "cascading"])
def test_same_seed_same_run_whatever_the_chunk_order_block_or_engine(request, name,
                                                                     monkeypatch):
    """A run's numbers come from its seed alone (:class:`normsim.seeds.StepNormals`) and
    every sum runs in one order, so a run replays alone from the seed in its row, bit for
    bit: across a block boundary, in any chunking and order, on either engine."""
    import normsim.models.region as region

    scenario = (request.getfixturevalue("history") if name == "history"
                else _cascading(request.getfixturevalue("today")))
    seeds = replicate_seeds(7, BLOCK + 6)
    together = run_trajectories(scenario, seeds)
    assert together["stage"].max(axis=2).max() >= StateStage.ADOPTER

    def same(runs: dict[str, np.ndarray], picks: list[int]) -> None:
        for key, value in together.items():
            np.testing.assert_array_equal(value[picks], runs[key], err_msg=key)

    for picks in ([BLOCK + 5], [BLOCK - 1, 2, BLOCK + 1], list(range(0, BLOCK, 7))):
        same(run_trajectories(scenario, [seeds[i] for i in picks]), picks)
    for pick in range(BLOCK - 40, BLOCK + 6, 3):  # one Mesa model each
        same(run_trajectories(scenario, [seeds[pick]], engine="mesa"), [pick])
    monkeypatch.setattr(region, "CHUNK", 5)
    picks = list(range(BLOCK + 5, BLOCK - 9, -1))  # 14 runs, reversed, in chunks of 5
    same(run_trajectories(scenario, [seeds[i] for i in picks]), picks)


def test_a_longer_horizon_keeps_the_early_years(history):
    seeds = replicate_seeds(3, 40)
    short = run_trajectories(history, seeds, steps=5)
    long = run_trajectories(history, seeds, steps=12)
    for key, value in short.items():
        np.testing.assert_array_equal(value, long[key][:, :6], err_msg=key)


def test_replicate_seeds_are_fixed_ints_from_the_master():
    seeds = replicate_seeds(1, 5)
    assert seeds == replicate_seeds(1, 5)
    assert seeds[:3] == replicate_seeds(1, 3)
    assert all(isinstance(s, int) and 0 <= s < 2**63 for s in seeds)
    assert len(set(seeds)) == 5 and seeds != replicate_seeds(2, 5)


@pytest.mark.parametrize("name", ["history", "today"])
def test_batch_engine_equals_mesa_engine(request, name):
    scenario = request.getfixturevalue(name)
    batch = run_scenario(scenario, 25, 11, engine="batch")
    mesa = run_scenario(scenario, 25, 11, engine="mesa")
    for table in ("runs", "steps", "agents"):
        pd.testing.assert_frame_equal(getattr(batch, table), getattr(mesa, table),
                                      check_exact=True)


# --------------------------------------------------------------------------- issue 10


def test_the_mechanism_switches_are_one_list():
    from normsim.models.region.dynamics import MECHANISMS
    from normsim.models.region.schema import MECHANISMS as DOCUMENTED
    from normsim.models.region.schema import REGION

    assert tuple(DOCUMENTED) == MECHANISMS == tuple(REGION.fields["mechanisms"].fields)


def test_one_strong_clash_blocks_under_max_and_power_mean_but_not_under_the_mean(today):
    """A state that holds one prior norm deeply (non-interference 1.0) and the rest not at
    all: the compensatory mean dilutes the clash six-fold, the max and the power mean let
    the one norm block alone (002:846, 002:855-857)."""
    from normsim.models.region.dynamics import norm_clash, resistance

    one = {k: 0.0 for k in today.data["norms"]} | {"non_interference": 1.0}
    base = today.with_overrides({"states.SGP.norms": one, "states.SGP.regime_insecurity": 0.0})
    clash, push = {}, {}
    for rule in ("mean", "max", "power_mean"):
        params = build_params(base.with_overrides({"norm.combination": {"rule": rule,
                                                                         "exponent": 4}}))
        state = initial_state(params, _seeds(1))
        sgp = params.codes.index("SGP")
        clash[rule] = norm_clash(state.norms, params)[sgp, 0]
        push[rule] = resistance(state, params)[sgp, 0]
    assert clash["max"] == pytest.approx(1.0)
    assert clash["mean"] == pytest.approx(1 / 6)
    assert clash["power_mean"] == pytest.approx((1 / 6) ** 0.25)
    # Blocked: the push at support 0.5 outweighs a pull of 0.05 under max and power mean,
    # not under the mean.
    pull = 0.05
    assert push["mean"] < pull < push["power_mean"] < push["max"]


def test_the_summit_adopts_the_most_ambitious_version_no_member_objects_to(today):
    """The least-restrictive version prevails (002:480-484): Singapore objects to the force
    and to the standby group, not to the training network."""
    scenario = today.with_overrides({
        "events": [{"type": "proposal", "year": 2025, "by": "IDN"}],
        **{f"states.{c}.support": 0.95 for c in today.codes if c != "SGP"},
        "states.SGP.support": 0.15, "states.SGP.threshold": 0.8,
        "dynamics.noise": 0.0, "dynamics.threshold_sd": 0.0, "mechanisms.withdrawal": False,
        "end_year": 2025, "norm.adopted": None,  # as before the APCN
    })
    res = run_scenario(scenario, 3, 0)
    steps = res.steps[res.steps["year"] == 2025]
    assert (steps["summit"] == "adopted").all()
    assert (steps["version_tabled"] == "standing_force").all()
    assert (steps["institution_version"] == "training_network").all()
    assert not res.runs["institutional_adoption"].any()
    assert (res.runs["version_adopted"] == "training_network").all()
    blocked = res.agents[(res.agents["year"] == 2025) & res.agents["blocked"]]
    assert set(blocked["state"].astype(str)) == {"SGP"}
    # Only the most ambitious version is put forward when versions are switched off.
    off = run_scenario(scenario.with_overrides({"mechanisms.versions": False}), 3, 0)
    assert (off.steps.loc[off.steps["year"] == 2025, "summit"] == "failed").all()
    assert off.runs["version_adopted"].isna().all() and (off.runs["failed_votes"] == 1).all()


def test_a_proposer_takes_the_versions_it_foresees_blocked_off_the_table(today):
    """001:1 c.1776-2060: the integrated force "taken off the table before a discussion
    could get started". Singapore is a clear objector to the force and to the standby
    group: the proposer tables the training network, the summit adopts it, and Singapore is
    recorded as the blocker of the force. Without withdrawal the force is put to the vote."""
    scenario = today.with_overrides({
        "events": [{"type": "proposal", "year": 2025, "by": "IDN"}],
        **{f"states.{c}.support": 0.95 for c in today.codes if c != "SGP"},
        "states.SGP.support": 0.15, "states.SGP.threshold": 0.8,
        "dynamics.noise": 0.0, "dynamics.threshold_sd": 0.0, "end_year": 2025,
        "norm.adopted": None,  # as before the APCN
    })
    res = run_scenario(scenario, 3, 0)
    at = res.steps[res.steps["year"] == 2025]
    assert (at["summit"] == "adopted").all()
    assert (at["version_tabled"] == "training_network").all()
    assert (at["institution_version"] == "training_network").all()
    blocked = res.agents[(res.agents["year"] == 2025) & res.agents["blocked"]]
    assert set(blocked["state"].astype(str)) == {"SGP"}
    voted = run_scenario(scenario.with_overrides({"mechanisms.withdrawal": False}), 3, 0)
    at = voted.steps[voted.steps["year"] == 2025]
    assert (at["version_tabled"] == "standing_force").all()
    assert (at["institution_version"] == "training_network").all()


def test_a_proposer_withdraws_what_it_foresees_blocked_and_records_who(today):
    """001:1 c.1776-2060: "taken off the table before a discussion could get started"."""
    scenario = today.with_overrides({
        "events": [{"type": "proposal", "year": 2025, "by": "IDN"}],
        "states.SGP.support": 0.0, "states.SGP.threshold": 0.9,
        "dynamics.noise": 0.0, "dynamics.threshold_sd": 0.0,
    })
    res = run_scenario(scenario, 3, 0)
    at = res.steps[res.steps["year"] == 2025]
    assert (at["summit"] == "withdrawn").all() and at["version_tabled"].isna().all()
    assert (res.runs["withdrawals"] == 1).all() and (res.runs["failed_votes"] == 0).all()
    blocked = res.agents[(res.agents["year"] == 2025) & res.agents["blocked"]]
    assert "SGP" in set(blocked["state"].astype(str))
    voted = run_scenario(scenario.with_overrides({"mechanisms.withdrawal": False}), 3, 0)
    assert (voted.steps.loc[voted.steps["year"] == 2025, "summit"] == "failed").all()


def test_a_switched_off_mechanism_contributes_nothing(today):
    quiet = today.with_overrides({"mechanisms.noise": False,
                                  "mechanisms.threshold_heterogeneity": False})
    arrays = run_trajectories(quiet, replicate_seeds(5, 4))
    for key in ("support", "stage"):  # no noise, no threshold draw: every replicate alike
        assert (arrays[key] == arrays[key][:1]).all()
    params = build_params(quiet)
    assert (arrays["threshold"] == params.threshold.mean()).all()
    still = today.with_overrides({"mechanisms.identity_drift": False})
    norms = run_trajectories(still, replicate_seeds(5, 4))["norms"]
    assert (norms == norms[:, :1]).all()


def test_an_entrepreneur_is_not_pinned_and_a_lukewarm_one_persuades_little(today):
    """The co-entrepreneur lever: Vietnam (support 0.25) joins the role; it is not made an
    adopter by fiat, and persuades in proportion to its own support."""
    from normsim.models.region.dynamics import persuasion
    from normsim.models.region.schema import lever_overrides

    co = today.with_overrides(lever_overrides(today, co_entrepreneur="VNM"))
    params = build_params(co)
    state = initial_state(params, _seeds(1))
    vnm, idn = params.codes.index("VNM"), params.codes.index("IDN")
    assert state.support[vnm, 0] == pytest.approx(0.25)
    assert state.stage[vnm, 0] == StateStage.RESISTANT
    alone = build_params(today)
    extra = persuasion(state, params) - persuasion(initial_state(alone, _seeds(1)), alone)
    others = [i for i in range(params.n_states) if i not in (vnm, idn)]
    # VNM's lobbying adds intensity x support (0.25) x tie x credibility per target.
    per_target = 0.4 / 9 * 0.25 * params.ties[vnm, others] * 0.8
    np.testing.assert_allclose(extra[others, 0], per_target, rtol=1e-9)


def test_a_version_adopted_before_the_start_is_never_adopted_again(today):
    # The APCN exists since 2011/2012 (002:665-666): a summit after 2024 can only add
    # a more ambitious version.
    assert today.data["norm"]["adopted"] == "training_network"
    keys = build_params(today).version_keys
    results = run_scenario(today.with_overrides({"entrepreneurs.IDN.intensity": 2.0}), 300,
                           4, agents=False)
    steps = results.steps
    assert (steps.loc[steps.step == 0, "institution_version"] == keys[2]).all()
    assert results.runs.version_adopted.notna().all()
    adopted_at_summits = steps.loc[steps.summit == "adopted", "institution_version"]
    assert len(adopted_at_summits), "the test needs some adoption"
    assert set(adopted_at_summits) <= {"standby_group", "standing_force"}
    with pytest.raises(ScenarioError, match=r"norm\.adopted: 'apcn' is not a version"):
        today.with_overrides({"norm.adopted": "apcn"})
