"""Unit and property tests of the generic threshold engine and its networks."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from normsim.models.threshold.dynamics import (
    ThresholdDynamics,
    draw_initial_adopters,
    draw_thresholds,
    run_replicate,
    simulate,
)
from normsim.models.threshold.networks import (
    barabasi_albert,
    build_network,
    complete,
    erdos_renyi,
    from_edges,
    generator_keys,
    ring_lattice,
    watts_strogatz,
)
from normsim.models.threshold.schema import THRESHOLD, check
from normsim.schema import ScenarioError, _Context, _validate


def validated(raw: dict) -> dict:
    """A raw threshold scenario through the scenario schema and its checks, as files go."""
    ctx = _Context()
    data = _validate(THRESHOLD, raw, "", ctx)
    check(data, ctx)
    if ctx.problems:
        raise ScenarioError("<memory>", ctx.problems)
    return data


def path_graph(n: int) -> sp.csr_array:
    nodes = np.arange(n - 1)
    return from_edges(n, nodes, nodes + 1)


def reference_run(
    adjacency: sp.csr_array, thresholds: np.ndarray, initial: np.ndarray, steps: int, absolute: bool
) -> tuple[np.ndarray, np.ndarray]:
    """A plain synchronous implementation: a full matrix-vector product every step."""
    x = initial.copy()
    adoption = np.where(x, 0, -1)
    shares = [x.mean()]
    strength = np.asarray(adjacency.sum(axis=1)).ravel()
    for t in range(1, steps + 1):
        weighted = adjacency @ x.astype(np.float64)  # reads the state of step t-1 only
        if absolute:
            qualifies = weighted >= thresholds
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                qualifies = (strength > 0) & (weighted / strength >= thresholds)
        new = qualifies & ~x
        if not new.any():
            break
        x = x | new
        adoption[new] = t
        shares.append(x.mean())
    return np.asarray(shares), adoption


def scenario(**overrides: object) -> dict:
    base = {
        "kind": "threshold",
        "network": {"generator": "erdos_renyi", "n": 500, "mean_degree": 3},
        "threshold": {"distribution": "uniform", "low": 0.05, "high": 0.3},
        "initial_adopters": {"random": 3},
        "steps": 100,
    }
    base.update(overrides)
    return base


# --------------------------------------------------------------------------- the rule


def test_synchronous_update_spreads_one_tie_per_step() -> None:
    # On a path 0-1-2-3-4 with a threshold of one adopting neighbour, a random-order or
    # in-place sweep would let node 0's adoption run down the whole path in one step.
    run = simulate(path_graph(5), np.ones(5), np.eye(5, dtype=bool)[0], 100, absolute=True)
    assert run.adoption_step.tolist() == [0, 1, 2, 3, 4]
    assert run.steps_run == 4
    assert run.adopter_share.tolist() == [0.2, 0.4, 0.6, 0.8, 1.0]


def test_adopter_at_t_influences_only_at_t_plus_one() -> None:
    # Node 2 needs both 1 and 3. Node 1 adopts at step 1 (reads seed 0), node 3 at step 1
    # (reads seed 4); node 2 sees both only when reading step 1, so it adopts at step 2.
    initial = np.array([True, False, False, False, True])
    thresholds = np.array([0, 1, 2, 1, 0], dtype=float)
    run = simulate(path_graph(5), thresholds, initial, 10, absolute=True)
    assert run.adoption_step.tolist() == [0, 1, 2, 1, 0]


def test_fractional_rule_uses_ge_and_weighted_share() -> None:
    # Node 0 is tied to 1 (weight 3) and 2 (weight 1); node 1 adopts: share 3/4.
    adjacency = from_edges(3, np.array([0, 0]), np.array([1, 2]), np.array([3.0, 1.0]))
    initial = np.array([False, True, False])
    exact = simulate(adjacency, np.array([0.75, 1.0, 1.0]), initial, 5)
    above = simulate(adjacency, np.array([0.76, 1.0, 1.0]), initial, 5)
    assert exact.adoption_step[0] == 1  # share >= threshold
    assert above.adoption_step[0] == -1


@pytest.mark.parametrize(
    ("theta", "degree", "needed"), [(0.28, 25, 7), (0.56, 25, 14), (0.07, 100, 7)]
)
def test_fractional_rule_is_exact_where_theta_times_degree_rounds_up(
    theta: float, degree: int, needed: int
) -> None:
    # In float64, 0.28 * 25 > 7 although 7 / 25 == 0.28: the share test must still pass.
    assert needed / degree >= theta and theta * degree > needed
    star = from_edges(degree + 1, np.zeros(degree, int), np.arange(1, degree + 1))
    for adopting, adopts in ((needed, 1), (needed - 1, -1)):
        initial = np.zeros(degree + 1, dtype=bool)
        initial[1 : adopting + 1] = True
        run = simulate(star, np.full(degree + 1, theta), initial, 1)
        assert run.adoption_step[0] == adopts


def test_absolute_versus_fractional_rule() -> None:
    # A star: centre 0 with four leaves, two of which adopt. Share 1/2, count 2.
    adjacency = from_edges(5, np.zeros(4, int), np.arange(1, 5))
    initial = np.array([False, True, True, False, False])
    assert simulate(adjacency, np.full(5, 0.5), initial, 1).adoption_step[0] == 1
    assert simulate(adjacency, np.full(5, 0.51), initial, 1).adoption_step[0] == -1
    assert simulate(adjacency, np.full(5, 2.0), initial, 1, absolute=True).adoption_step[0] == 1
    assert simulate(adjacency, np.full(5, 3.0), initial, 1, absolute=True).adoption_step[0] == -1


def test_isolated_nodes() -> None:
    adjacency = from_edges(3, np.array([0]), np.array([1]))
    none = np.zeros(3, dtype=bool)
    fractional = simulate(adjacency, np.zeros(3), none, 10)
    assert fractional.adoption_step.tolist() == [1, 1, -1]  # no neighbours: never
    absolute = simulate(adjacency, np.zeros(3), none, 10, absolute=True)
    assert absolute.adoption_step.tolist() == [1, 1, 1]  # count 0 >= 0: instigator
    seeded = simulate(adjacency, np.full(3, 0.5), np.array([False, False, True]), 10)
    assert seeded.adoption_step.tolist() == [-1, -1, 0]


def test_fixed_point_stops_early_and_step_limit_is_respected() -> None:
    adjacency = path_graph(50)
    initial = np.eye(50, dtype=bool)[0]
    stopped = simulate(adjacency, np.ones(50), initial, 10, absolute=True)
    assert stopped.steps_run == 10
    assert stopped.adopter_share.shape == (11,)
    assert stopped.final_share == pytest.approx(11 / 50)
    blocked = np.ones(50)
    blocked[5] = 2  # node 5 has one adopting neighbour at most: the cascade stops at 4
    run = simulate(adjacency, blocked, initial, 1000, absolute=True)
    assert run.steps_run == 4
    assert run.final_share == pytest.approx(5 / 50)
    dynamics = ThresholdDynamics(adjacency, blocked, initial, absolute=True)
    for _ in range(4):
        assert dynamics.step() == 1
    assert dynamics.step() == 0
    assert dynamics.step() == 0  # a fixed point stays fixed
    assert dynamics.t == 6
    assert simulate(adjacency, blocked, initial, 0, absolute=True).steps_run == 0


def test_dynamics_exposes_read_only_views_and_leaves_inputs_alone() -> None:
    adjacency = path_graph(6)
    thresholds = np.ones(6)
    initial = np.eye(6, dtype=bool)[0]
    dynamics = ThresholdDynamics(adjacency, thresholds, initial, absolute=True)
    dynamics.step()
    with pytest.raises(ValueError, match="read-only"):
        dynamics.adopted[3] = True
    assert initial.sum() == 1
    assert thresholds.tolist() == [1.0] * 6


def test_invalid_inputs_are_rejected() -> None:
    good = path_graph(3)
    with pytest.raises(ValueError, match="symmetric"):
        simulate(
            sp.csr_array(np.array([[0, 1, 0], [0, 0, 0], [0, 0, 0]])),
            np.ones(3),
            np.zeros(3, bool),
            1,
        )
    with pytest.raises(ValueError, match="diagonal"):
        simulate(sp.csr_array(np.eye(3)), np.ones(3), np.zeros(3, bool), 1)
    with pytest.raises(ValueError, match="thresholds"):
        simulate(good, np.ones(2), np.zeros(3, bool), 1)
    with pytest.raises(ValueError, match="initial"):
        simulate(good, np.ones(3), np.zeros(3), 1)
    with pytest.raises(ValueError, match="steps"):
        simulate(good, np.ones(3), np.zeros(3, bool), -1)


@st.composite
def small_cases(draw: st.DrawFn) -> tuple:
    n = draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    adjacency = erdos_renyi(n, draw(st.floats(0, 1)), rng)
    if draw(st.booleans()):  # dyadic weights keep every weighted sum exact
        upper = sp.triu(adjacency, k=1, format="coo")
        weights = rng.choice([0.25, 0.5, 1.0, 2.0, 3.0], size=upper.nnz)
        adjacency = from_edges(n, upper.row, upper.col, weights)
    absolute = draw(st.booleans())
    if absolute:
        thresholds = rng.integers(0, 5, size=n) + rng.choice([0.0, 0.5], size=n)
    else:
        grid = np.array([0.0, 0.1, 0.18, 0.25, 1 / 3, 0.5, 2 / 3, 0.7, 1.0])
        thresholds = rng.choice(grid, size=n) if draw(st.booleans()) else rng.random(n)
    initial = rng.random(n) < draw(st.floats(0, 0.5))
    steps = draw(st.integers(0, 40))
    return adjacency, thresholds, initial, steps, absolute


@settings(max_examples=300, deadline=None)
@given(small_cases())
def test_engine_equals_plain_synchronous_implementation(case: tuple) -> None:
    adjacency, thresholds, initial, steps, absolute = case
    run = simulate(adjacency, thresholds, initial, steps, absolute=absolute)
    shares, adoption = reference_run(adjacency, thresholds, initial, steps, absolute)
    np.testing.assert_array_equal(run.adopter_share, shares)
    np.testing.assert_array_equal(run.adoption_step, adoption)


@settings(max_examples=100, deadline=None)
@given(small_cases())
def test_run_invariants(case: tuple) -> None:
    adjacency, thresholds, initial, steps, absolute = case
    run = simulate(adjacency, thresholds, initial, steps, absolute=absolute)
    n = adjacency.shape[0]
    share = run.adopter_share
    assert share.shape == (run.steps_run + 1,)
    assert np.all((share >= 0) & (share <= 1))
    assert np.all(np.diff(share) > 0)  # monotone, and every recorded step changed something
    assert share[0] == initial.mean()
    assert run.steps_run <= steps
    steps_of = run.adoption_step
    assert np.array_equal(steps_of == 0, initial)
    for t in range(run.steps_run + 1):
        assert np.count_nonzero((steps_of >= 0) & (steps_of <= t)) == round(share[t] * n)
    if run.steps_run < steps:  # stopped at a fixed point: one more step changes nothing
        dynamics = ThresholdDynamics(adjacency, thresholds, initial, absolute=absolute)
        for _ in range(run.steps_run):
            dynamics.step()
        assert dynamics.step() == 0


def test_large_frontier_paths_agree_with_reference() -> None:
    # Big first steps take the bincount / whole-population branches of the engine.
    rng = np.random.default_rng(11)
    adjacency = erdos_renyi(3000, 6 / 2999, rng)
    for absolute, thresholds in ((False, rng.random(3000) * 0.4), (True, rng.integers(1, 4, 3000))):
        initial = rng.random(3000) < 0.3
        run = simulate(adjacency, thresholds, initial, 200, absolute=absolute)
        shares, adoption = reference_run(adjacency, thresholds, initial, 200, absolute)
        np.testing.assert_array_equal(run.adopter_share, shares)
        np.testing.assert_array_equal(run.adoption_step, adoption)


# --------------------------------------------------------------------------- replicates


def test_same_seed_same_run_and_seeds_differ() -> None:
    first = run_replicate(scenario(), seed=7)
    again = run_replicate(scenario(), seed=7)
    other = run_replicate(scenario(), seed=8)
    np.testing.assert_array_equal(first.adopter_share, again.adopter_share)
    np.testing.assert_array_equal(first.adoption_step, again.adoption_step)
    assert not np.array_equal(first.adoption_step, other.adoption_step)


def test_replicate_draws_graph_then_thresholds_then_adopters() -> None:
    spec = scenario()
    rng = np.random.default_rng(5)
    adjacency = build_network(spec["network"], rng)
    thresholds = draw_thresholds(spec["threshold"], 500, rng)
    initial = draw_initial_adopters(spec["initial_adopters"], 500, rng)
    expected = simulate(adjacency, thresholds, initial, 100)
    np.testing.assert_array_equal(run_replicate(spec, seed=5).adoption_step, expected.adoption_step)


def test_absolute_threshold_scenario() -> None:
    spec = scenario(threshold=None, absolute_threshold=2)
    del spec["threshold"]
    spec["network"] = {"generator": "ring_lattice", "n": 40, "k": 4}
    spec["initial_adopters"] = {"nodes": [0, 1]}
    run = run_replicate(validated(spec), seed=0)
    assert run.final_share == 1.0
    assert run.steps_run == 19  # two new adopters per step after the two seeds


def test_initial_adopters_and_thresholds_draws() -> None:
    rng = np.random.default_rng(0)
    assert draw_initial_adopters({"random": 17}, 100, rng).sum() == 17
    assert draw_initial_adopters({"share": 0.125}, 100, rng).sum() == 13  # 12.5 rounds up
    assert np.flatnonzero(draw_initial_adopters({"nodes": [3, 9]}, 10, rng)).tolist() == [3, 9]
    uniform = draw_thresholds({"distribution": "uniform", "low": 0.2, "high": 0.4}, 10_000, rng)
    assert uniform.min() >= 0.2 and uniform.max() < 0.4
    assert uniform.mean() == pytest.approx(0.3, abs=0.005)
    normal = draw_thresholds(
        {"distribution": "normal", "mean": 25, "sd": 10}, 10_000, rng
    )
    assert normal.std() == pytest.approx(10, rel=0.05)
    constant = draw_thresholds({"distribution": "constant", "value": 0.18}, 3, rng)
    assert constant.tolist() == [0.18] * 3
    values = draw_thresholds({"distribution": "values", "values": [0, 1, 2]}, 3, rng)
    assert values.tolist() == [0.0, 1.0, 2.0]


@pytest.mark.parametrize(
    ("spec", "absolute", "message"),
    [
        ({"distribution": "constant", "value": 1.5}, False,
         r"threshold.value: 1.5 is out of range; allowed: a number >= 0 and <= 1"),
        ({"distribution": "constant", "value": -1}, True,
         r"absolute_threshold.value: -1 is out of range; allowed: a number >= 0(\n|$)"),
        ({"distribution": "uniform", "low": 0.5, "high": 0.2}, False, "must not exceed"),
        ({"distribution": "normal", "mean": 1, "sd": -1}, False, r"threshold.sd"),
        ({"distribution": "values", "values": [0.1, 2.0]}, False, r"threshold.values\[1\]"),
        ({"distribution": "values", "values": [0.1]}, False, "one threshold per node"),
        ({"distribution": "beta", "a": 1}, False, "'beta' is not allowed; allowed: constant"),
        ({"distribution": "constant", "value": 0.1, "sd": 1}, False, r"threshold.sd: unknown"),
        ("high", False, "threshold.value: expected a number >= 0 and <= 1, got text 'high'"),
    ],
)
def test_threshold_spec_errors(spec: dict, absolute: bool, message: str) -> None:
    key = "absolute_threshold" if absolute else "threshold"
    raw = scenario(network={"generator": "complete", "n": 2}, threshold=None,
                   initial_adopters={"random": 1})
    del raw["threshold"]
    with pytest.raises(ScenarioError, match=message):
        validated({**raw, key: spec})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "region"}, "kind: 'region' is not allowed; allowed: one of threshold"),
        ({"steps": -1}, "steps: -1 is out of range"),
        ({"absolute_threshold": 2}, "exactly one of threshold or absolute_threshold"),
        ({"initial_adopters": {"random": 501}}, r"initial_adopters.random"),
        ({"initial_adopters": {"nodes": [1, 1]}}, "distinct"),
        ({"initial_adopters": {"nodes": [500]}}, r"initial_adopters.nodes\[0\]"),
        ({"initial_adopters": {"share": 1.5}}, r"initial_adopters.share"),
        ({"initial_adopters": {"random": 1, "share": 0.1}}, "exactly one"),
        ({"network": {"generator": "erdos_renyi", "n": 10}}, "exactly one of"),
        ({"network": {"generator": "ring_lattice", "n": 10, "k": 3}}, r"network.k: 3 must be even"),
        ({"network": {"generator": "ring_lattice", "n": 10, "k": 10}}, r"network.k"),
        ({"network": {"generator": "watts_strogatz", "n": 10, "k": 4}}, r"network.p: missing"),
        ({"network": {"generator": "erdos_renyi", "n": 10, "p": 2}}, r"network.p"),
        ({"network": {"generator": "complete", "n": 10, "k": 2}}, "unknown key"),
        ({"network": {"generator": "grid", "n": 10}}, r"network.generator"),
        ({"network": {"file": "x.csv"}}, r"network.n: missing"),
        ({"network": {"file": "x.csv", "n": 3, "generator": "complete"}}, "exactly one"),
        ({"network": {"generator": "barabasi_albert", "n": 11, "mean_degree": 5}}, "2m"),
        ({"network": {"generator": "barabasi_albert", "n": 11, "m": 11}}, r"network.m: 11"),
        ({"threshold": {"distribution": "values", "values": [0.1]}}, "one threshold per node"),
    ],
)
def test_scenario_errors_name_the_key(changes: dict, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        validated(scenario(**changes))


def test_every_problem_is_collected_at_once_with_its_key_path() -> None:
    raw = scenario(network={"generator": "ring_lattice", "n": 10, "k": 3, "p": 0.1},
                   threshold={"distribution": "uniform", "low": 0.5, "high": 2},
                   initial_adopters={"random": 11}, steps=-1)
    with pytest.raises(ScenarioError) as err:
        validated(raw)
    lines = str(err.value).splitlines()
    assert lines == [
        "<memory>: network.p: unknown key; allowed: n, mean_degree, k",
        "<memory>: threshold.high: 2 is out of range; allowed: a number >= 0 and <= 1",
        "<memory>: steps: -1 is out of range; allowed: an integer >= 0 and <= 1e+07",
        "<memory>: network.k: 3 must be even (k/2 ties on either side); allowed: an even "
        "integer >= 0 and <= 9",
        "<memory>: initial_adopters.random: 11 is out of range; allowed: an integer >= 0 "
        "and <= n = 10",
    ]


def test_the_engine_takes_validated_data_and_does_not_check_it_again(monkeypatch) -> None:
    from normsim.models.threshold import schema

    data = validated(scenario(threshold=0.2))  # a bare number: a constant
    assert data["threshold"] == {"distribution": "constant", "value": 0.2}
    monkeypatch.setattr(schema, "check", None)  # nothing of the schema runs per replicate
    assert run_replicate(data, seed=1).steps_run >= 0


# --------------------------------------------------------------------------- networks


def assert_simple_undirected(adjacency: sp.csr_array, n: int) -> None:
    assert isinstance(adjacency, sp.csr_array)
    assert adjacency.shape == (n, n)
    assert adjacency.dtype == np.float64
    assert adjacency.has_canonical_format
    assert (adjacency != adjacency.T).nnz == 0
    assert not adjacency.diagonal().any()


def test_complete_and_ring_lattice_counts() -> None:
    graph = complete(30)
    assert_simple_undirected(graph, 30)
    assert graph.nnz == 30 * 29
    lattice = ring_lattice(101, 6)
    assert_simple_undirected(lattice, 101)
    assert np.all(np.diff(lattice.indptr) == 6)
    assert lattice[0, 3] == 1 and lattice[0, 98] == 1 and lattice[0, 4] == 0


@pytest.mark.parametrize(("n", "p"), [(200, 0.3), (200_000, 4 / 199_999)])
def test_erdos_renyi_edge_count_is_binomial(n: int, p: float) -> None:
    # Both branches (one draw per pair; binomial count then distinct pairs) give G(n, p):
    # the mean over replicates is within 5 standard errors of n(n-1)/2 p.
    pairs = n * (n - 1) / 2
    counts = [erdos_renyi(n, p, np.random.default_rng(s)).nnz / 2 for s in range(6)]
    for graph_seed in (0, 1):
        assert_simple_undirected(erdos_renyi(n, p, np.random.default_rng(graph_seed)), n)
    se = np.sqrt(pairs * p * (1 - p) / len(counts))
    assert abs(np.mean(counts) - pairs * p) < 5 * se


def test_erdos_renyi_degrees_are_poisson() -> None:
    graph = erdos_renyi(100_000, 3 / 99_999, np.random.default_rng(3))
    degree = np.diff(graph.indptr)
    observed = np.bincount(degree, minlength=8)[:8] / degree.size
    from scipy.stats import poisson

    np.testing.assert_allclose(observed, poisson.pmf(np.arange(8), 3), atol=0.006)


def test_watts_strogatz_rewires_a_share_p_of_ties() -> None:
    n, k, p = 20_000, 6, 0.2
    graph = watts_strogatz(n, k, p, np.random.default_rng(2))
    assert_simple_undirected(graph, n)
    assert graph.nnz == n * k  # as many ties as the lattice
    assert np.diff(graph.indptr).min() >= k // 2
    off_lattice = (graph - graph.multiply(ring_lattice(n, k))).nnz / 2
    ties = n * k / 2
    # A rewired tie may land back on a lattice pair only with probability ~k/n.
    assert abs(off_lattice - p * ties) < 5 * np.sqrt(ties * p * (1 - p))
    unchanged = watts_strogatz(50, 4, 0.0, np.random.default_rng(0))
    assert (unchanged != ring_lattice(50, 4)).nnz == 0
    assert_simple_undirected(watts_strogatz(9, 8, 1.0, np.random.default_rng(0)), 9)


def test_barabasi_albert_counts() -> None:
    graph = barabasi_albert(2000, 3, np.random.default_rng(4))
    assert_simple_undirected(graph, 2000)
    assert graph.nnz / 2 == 3 * (2000 - 3)  # a star of m+1 nodes, then m ties per node
    assert np.diff(graph.indptr).min() >= 3


def test_generators_are_reproducible_from_the_generator() -> None:
    for spec in (
        {"generator": "erdos_renyi", "n": 5000, "mean_degree": 4},
        {"generator": "watts_strogatz", "n": 300, "mean_degree": 4, "p": 0.3},
        {"generator": "barabasi_albert", "n": 300, "mean_degree": 4},
    ):
        a = build_network(spec, np.random.default_rng(9))
        b = build_network(spec, np.random.default_rng(9))
        c = build_network(spec, np.random.default_rng(10))
        assert (a != b).nnz == 0
        assert (a != c).nnz > 0


def test_mean_degree_is_translated_to_generator_keys() -> None:
    assert generator_keys({"generator": "erdos_renyi", "n": 11, "mean_degree": 2})["p"] == 0.2
    assert generator_keys({"generator": "ring_lattice", "n": 11, "mean_degree": 4})["k"] == 4
    assert generator_keys({"generator": "barabasi_albert", "n": 11, "mean_degree": 6})["m"] == 3
    with pytest.raises(ScenarioError, match=r"network.mean_degree: 5 must be 2m"):
        validated(scenario(network={"generator": "barabasi_albert", "n": 11, "mean_degree": 5}))


def test_edge_list_with_header_weights_and_isolated_nodes(tmp_path: Path) -> None:
    (tmp_path / "edges.csv").write_text("source,target,weight\n0,1,2.5\n1,2,0.5\n2,1,0.5\n")
    graph = build_network({"file": "edges.csv", "n": 5}, np.random.default_rng(0), tmp_path)
    assert_simple_undirected(graph, 5)
    assert graph[0, 1] == 2.5 and graph[2, 1] == 0.5
    assert graph.nnz == 4  # the repeated 1-2 tie is one tie; nodes 3 and 4 are isolated
    assert np.diff(graph.indptr).tolist() == [1, 2, 1, 0, 0]


def test_edge_list_without_header_is_unweighted(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("0,1\n1,2\n")
    graph = build_network({"file": str(path), "n": 3}, np.random.default_rng(0))
    assert graph.data.tolist() == [1.0] * 4
    run = simulate(graph, np.full(3, 0.5), np.array([True, False, False]), 10)
    assert run.adoption_step.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,1\n1,1\n", "line 2: self-loop"),
        ("a,b\n0,7\n", "line 2: node id 7"),
        ("0,x\n", "line 1: node ids must be integers"),
        ("0,1,1\n1,0,2\n", "lines 1 and 2: the same tie"),
        ("0,1,-1\n", "line 1: weight must be a positive"),
        ("0,1,2,3\n", "expected 2 or 3 columns"),
    ],
)
def test_malformed_edge_lists_are_rejected(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.csv").write_text(text)
    with pytest.raises(ValueError, match=message):
        build_network({"file": "bad.csv", "n": 3}, np.random.default_rng(0), tmp_path)
