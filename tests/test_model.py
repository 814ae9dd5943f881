"""The Mesa model: agents as the inspectable face of the array state."""

import multiprocessing
import pickle

import mesa
import numpy as np
import pandas as pd
import pytest

from normsim.models.region.agents import MemberState
from normsim.models.region.model import RegionModel, adopter_share
from normsim.models.region.norms import StateStage
from normsim.scenario import ScenarioError


def test_agents_are_the_ten_members_on_their_network_nodes():
    model = RegionModel(rng=1)
    codes = [a.code for a in model.agents]
    assert codes == ["BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM"]
    assert all(isinstance(a, MemberState) for a in model.agents)
    assert {a.cell.coordinate for a in model.agents} == set(range(10))
    assert len(list(model.grid[2].neighborhood.agents)) == 9
    idn = model.member("IDN")
    assert idn.is_entrepreneur and idn.stage is StateStage.ADOPTER and idn.support == 1.0
    assert set(idn.norms) == set(model.norm_scenario.data["norms"]) and len(idn.norms) == 6


def test_agents_show_exactly_the_array_state():
    model = RegionModel(rng=3)
    for _ in range(5):
        model.step()
        for agent in model.agents:
            assert agent.support == model.state.support[agent.index, 0]
            assert agent.stage is StateStage(model.state.stage[agent.index, 0])
            assert list(agent.norms.values()) == model.state.norms[:, agent.index, 0].tolist()


def test_model_runs_to_the_horizon_and_collects_one_row_per_step():
    model = RegionModel("asean-2015", rng=5)
    model.run_model()
    assert model.state.step == model.params.steps == 9
    assert model.year == 2023
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 10
    assert frame["adopter_share"].between(0, 1).all()
    agents = model.datacollector.get_agent_vars_dataframe()
    assert len(agents) == 10 * 10


def test_event_log_records_proposals_summits_and_blockers():
    model = RegionModel("asean-2003", rng=0)  # a run in which some state adopts
    model.run_model()
    kinds = {e["kind"] for e in model.events}
    assert {"proposal", "summit", "stage"} <= kinds
    summits = [e for e in model.events if e["kind"] == "summit"]
    assert summits[0]["year"] == 2003 and "withdrawn" in summits[0]["text"]
    assert "SGP" in summits[0]["text"] and "VNM" in summits[0]["text"]
    assert any("lesser version training_network" in e["text"] for e in summits)


def test_levers_change_the_scenario():
    model = RegionModel(framing="localized", entrepreneur_intensity=0.9, strategy="receptive",
                       tipping_share=0.5, co_entrepreneur="VNM", crisis_year=2027,
                       un_push_year=2028, rng=1)
    data = model.norm_scenario.data
    assert data["norm"]["framing"] == "localized"
    assert data["region"]["tipping_share"] == 0.5
    assert set(data["entrepreneurs"]) == {"IDN", "VNM"}
    assert all(r["intensity"] == 0.9 and r["strategy"] == "receptive"
               for r in data["entrepreneurs"].values())
    assert [e["type"] for e in data["events"]] == ["crisis", "un_push"]
    assert model.member("VNM").is_entrepreneur


def test_seed_from_a_text_field_is_coerced_and_reproducible():
    a, b = RegionModel(rng="42"), RegionModel(rng=42)
    for model in (a, b):
        model.run_for(8)
    np.testing.assert_array_equal(a.state.support, b.state.support)


def test_invalid_lever_raises_a_scenario_error():
    with pytest.raises(ScenarioError, match="tipping_share"):
        RegionModel(tipping_share=-1.0, rng=1)
    with pytest.raises(ScenarioError, match="unknown state code"):
        RegionModel(co_entrepreneur="XYZ", rng=1)


def test_stepping_past_the_horizon_keeps_going():
    model = RegionModel("asean-2015", rng=1)
    model.run_for(model.params.steps + 5)
    assert model.state.step == model.params.steps + 5
    assert 0 <= model.state.support.min() <= model.state.support.max() <= 1


def _assert_same_run(a: RegionModel, b: RegionModel) -> None:
    for key, series in a.trajectory.arrays().items():
        np.testing.assert_array_equal(series, b.trajectory.arrays()[key], err_msg=key)
    pd.testing.assert_frame_equal(a.datacollector.get_model_vars_dataframe(),
                                  b.datacollector.get_model_vars_dataframe())
    pd.testing.assert_frame_equal(a.datacollector.get_agent_vars_dataframe(),
                                  b.datacollector.get_agent_vars_dataframe())
    assert a.events == b.events


def test_model_pickles_and_the_copy_steps_on_identically():
    pickle.dumps(RegionModel())  # unseeded, fresh: every reporter pickles
    model = RegionModel("asean-2003", rng=4)
    model.run_for(3)
    copy = pickle.loads(pickle.dumps(model))
    assert copy.state.step == 3 and copy.member("IDN").support == model.member("IDN").support
    for m in (model, copy):
        m.run_for(6)
    assert copy.state.step == 9
    _assert_same_run(model, copy)
    assert copy.random.random() == model.random.random()  # Mesa's generators travel too
    assert copy.rng.random() == model.rng.random()


def test_batch_run_in_two_processes_over_parameter_values():
    start_method = multiprocessing.get_start_method(allow_none=True)
    try:
        rows = mesa.batch_run(RegionModel, {"scenario": "asean-2015", "tipping_share": [0.3, 0.5]},
                              number_processes=2, rng=[1, 2], display_progress=False)
    finally:  # batch_run forces the "spawn" start method on the whole process
        multiprocessing.set_start_method(start_method, force=True)
    frame = pd.DataFrame(rows)
    assert len(frame) == 2 * 2 * 10  # combinations x seeds x one row per agent
    for (share, seed), runs in frame.groupby(["tipping_share", "rng"]):
        model = RegionModel("asean-2015", tipping_share=share, rng=seed)
        model.run_model()
        assert (runs["Step"] == model.steps).all()
        assert runs["adopter_share"].iloc[0] == adopter_share(model)
        by_code = dict(zip(runs["state"], runs["support"], strict=True))
        assert by_code == {a.code: a.support for a in model.agents}


def test_an_unseeded_run_records_the_one_seed_that_replays_it():
    first = RegionModel("asean-2003")
    assert isinstance(first.seed, int) and 0 <= first.seed < 2**63
    assert first._seed == first.seed  # what Mesa records is the same seed
    assert RegionModel("asean-2003").seed != first.seed
    again = RegionModel("asean-2003", rng=first.seed)
    for model in (first, again):
        model.run_model()
    _assert_same_run(first, again)
    assert again.random.random() == first.random.random()
    assert again.rng.random() == first.rng.random()
    assert RegionModel(rng="42").seed == RegionModel(rng=42).seed == 42


def test_network_edge_weights_follow_the_ties_after_cooperation_events():
    model = RegionModel("asean-2003", rng=1)  # cooperation in 2011 and 2018
    n = model.params.n_states

    def weights() -> np.ndarray:
        grid = np.zeros((n, n))
        for i, j, w in model.grid.G.edges(data="weight"):
            grid[i, j] = grid[j, i] = w
        return grid

    np.testing.assert_array_equal(weights(), model.state.ties)
    while model.year < 2019:
        model.step()
        np.testing.assert_array_equal(weights(), model.state.ties)
    assert model.grid.G.number_of_edges() == n * (n - 1) // 2
    assert not np.allclose(model.state.ties, model.params.ties)  # the events did change them
    np.testing.assert_allclose(model.state.ties[2, 8], model.params.ties[2, 8] + 0.08)
