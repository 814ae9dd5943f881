"""The regional model is data: declared prior norms, any member codes, and the decision rule.

Each rule is tested on a small hand-made scenario whose vote outcome is known: who is in
favour (adopters) and who objects (resistant, below threshold by more than the margin) is
fixed by the support and threshold values, with noise and threshold draws switched off.
"""

import pandas as pd
import pytest

from normsim.cli import main
from normsim.experiments.replicates import run_scenario
from normsim.models.region.params import build_params, decision_arrays
from normsim.scenario import from_dict, load_scenario

from .conftest import SCENARIOS

NORMS = {key: {"name": f"the {key} norm", "meaning": f"what {key} asks", "source": "assumption"}
         for key in ("alpha", "beta", "gamma")}
CODES = ("A1", "b_2", "C-3", "Dd", "e5")


def council(decision: dict, favour: int, objectors: tuple[str, ...] = (),
            veto: tuple[str, ...] = ()) -> dict:
    """Five members, three custom prior norms; ``favour`` members hold the norm at the start,
    ``objectors`` object, the rest abstain (resistant within the acquiescence margin)."""
    states = {}
    for i, code in enumerate(CODES):
        support = 0.95 if i < favour else 0.0 if code in objectors else 0.45
        states[code] = {"name": f"member {code}", "support": support, "threshold": 0.5,
                        "norms": {"alpha": 0.5, "beta": 0.2, "gamma": 0.8}}
    return {
        "kind": "region", "name": "scratch-council", "start_year": 2000, "end_year": 2001,
        "norms": NORMS,
        "norm": {"conflict": {"alpha": 0.5, "beta": 0.2, "gamma": 0.1}},
        "region": {"decision": {**decision, **({"veto": list(veto)} if veto else {})},
                   "acquiescence_margin": 0.1, "table_when_tipped": False},
        "dynamics": {"noise": 0.0, "threshold_sd": 0.0, "resistance": 0.0,
                     "neighbour_influence": 0.0, "cascade_socialization": 0.0,
                     "prestige": 0.0, "rivalry_response": 0.0},
        "mechanisms": {"withdrawal": False},  # every proposal is voted on: the rule decides
        "states": states,
        "events": [{"type": "proposal", "year": 2001, "by": CODES[0]}],
    }


def vote(raw: dict) -> tuple[bool, list[str]]:
    runs = run_scenario(from_dict(raw), 3, 0, agents=False).runs
    assert runs["institutional_adoption"].nunique() == 1  # no noise: every replicate alike
    return bool(runs["institutional_adoption"].iloc[0]), list(runs["blockers"].iloc[0])


@pytest.mark.parametrize(
    ("decision", "favour", "objectors", "veto", "passes", "blockers"),
    [
        ({"rule": "consensus"}, 4, (), (), True, []),
        ({"rule": "consensus"}, 3, ("Dd",), (), False, ["Dd"]),
        ({"rule": "consensus"}, 1, (), (), True, []),  # abstainers acquiesce
        ({"rule": "max_objectors", "objectors": 1}, 3, ("Dd",), (), True, []),
        ({"rule": "max_objectors", "objectors": 1}, 3, ("Dd", "e5"), (), False, ["Dd", "e5"]),
        ({"rule": "qualified_majority", "share": 0.6}, 3, ("Dd", "e5"), (), True, []),
        ({"rule": "qualified_majority", "share": 0.6}, 2, ("Dd",), (), False, ["Dd"]),
        ({"rule": "qualified_majority", "share": 0.6}, 2, (), (), False, []),  # abstentions
        ({"rule": "qualified_majority", "share": 0.6}, 4, ("e5",), ("e5",), False, ["e5"]),
        ({"rule": "qualified_majority", "share": 0.6}, 3, ("Dd", "e5"), ("e5",), False,
         ["e5"]),  # the veto holder's objection is the one that counts
        ({"rule": "qualified_majority", "share": 0.6}, 3, ("e5",), ("Dd",), True, []),
    ],
)
def test_each_rule_decides_as_defined(decision, favour, objectors, veto, passes, blockers):
    assert vote(council(decision, favour, objectors, veto)) == (passes, blockers)


def test_a_qualified_majority_rounds_its_share_up_to_a_count():
    assert decision_arrays({"rule": "qualified_majority", "share": 0.6, "veto": []},
                           tuple(f"M{i}" for i in range(15)))[1] == 9
    assert decision_arrays({"rule": "qualified_majority", "share": 2 / 3, "veto": []},
                           tuple(f"M{i}" for i in range(55)))[1] == 37
    assert decision_arrays({"rule": "consensus"}, CODES)[:2] == (0, 0)


def test_the_declared_norms_are_the_norm_axis_and_the_norm_columns():
    scenario = from_dict(council({"rule": "consensus"}, 2))
    params = build_params(scenario)
    assert params.norm_keys == ("alpha", "beta", "gamma") and params.norms.shape == (5, 3)
    result = run_scenario(scenario, 2, 0)
    assert [c for c in result.steps.columns if c.startswith("norm_")] == [
        "norm_alpha", "norm_beta", "norm_gamma"]
    assert [c for c in result.agents.columns if c.startswith("norm_")] == [
        "norm_alpha", "norm_beta", "norm_gamma"]


def test_the_mesa_model_runs_any_council_and_logs_the_rule():
    from normsim.models.region.model import RegionModel

    raw = council({"rule": "qualified_majority", "share": 0.6}, 4, ("e5",), ("e5",))
    model = RegionModel(from_dict(raw), rng=1)
    model.run_for(1)
    assert set(model.member("C-3").norms) == {"alpha", "beta", "gamma"}
    assert "norm_gamma" in model.datacollector.get_model_vars_dataframe()
    assert any(e["text"] == "summit: blocked by e5" for e in model.events)


def test_a_scratch_council_validates_and_runs_through_the_cli(tmp_path, capsys):
    """5 members, 3 custom prior norms, a majority rule with one veto holder."""
    import yaml

    raw = council({"rule": "qualified_majority", "share": 0.5}, 3, ("e5",), ("C-3",))
    path = tmp_path / "council.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert main(["validate", str(path)]) == 0
    assert main(["run", str(path), "-n", "10", "--seed", "3", "-q", "--out",
                 str(tmp_path / "out")]) == 0
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert runs["institutional_adoption"].all()  # 3 of 5 in favour, the veto holder abstains
    capsys.readouterr()


def test_the_security_council_example_runs_and_a_veto_blocks():
    scenario = load_scenario(SCENARIOS / "examples" / "un-security-council.yaml")
    assert len(scenario.codes) == 15
    assert scenario.data["region"]["decision"]["veto"] == ["CHN", "FRA", "GBR", "RUS", "USA"]
    runs = run_scenario(scenario, 200, 11, agents=False).runs
    voted = runs[runs["blockers"].map(len) > 0]
    assert len(voted) > 0, "failed votes record their blockers"
    p5 = set(scenario.data["region"]["decision"]["veto"])
    assert all(set(b) <= p5 for b in voted["blockers"])  # vetoes are what counts
    # Fourteen in favour, one permanent member objects: the veto alone blocks.
    others = {f"states.{c}.support": 0.99 for c in scenario.codes if c != "RUS"}
    lone = scenario.with_overrides({**others, "states.RUS.support": 0.0,
                                    "dynamics.noise": 0.0, "dynamics.threshold_sd": 0.0})
    runs = run_scenario(lone, 5, 0, agents=False).runs
    assert not runs["institutional_adoption"].any()
    assert runs["blockers"].map(list).tolist() == [["RUS"]] * 5
    # The same lone objection from an elected member does not block.
    elected = scenario.with_overrides({**{f"states.{c}.support": 0.99 for c in scenario.codes
                                          if c != "E03"}, "states.E03.support": 0.0,
                                       "dynamics.noise": 0.0, "dynamics.threshold_sd": 0.0})
    assert run_scenario(elected, 5, 0, agents=False).runs["institutional_adoption"].all()


def test_a_file_saying_kind_asean_is_told_to_say_region(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text("kind: asean\nstart_year: 2000\nend_year: 2001\nstates: {A: {}}\n")
    with pytest.raises(Exception, match=r"kind: 'asean' is not allowed; allowed: region, "
                       r"threshold; write kind: region"):
        load_scenario(path)
