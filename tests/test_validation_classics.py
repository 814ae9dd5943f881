"""The engine reproduces the classic published results of threshold diffusion.

Each test derives its expected value from the source (analytically where the source does,
computed here rather than copied) and states its tolerance. Every run draws its own graph,
thresholds and seed nodes from its own integer seed through :func:`run_replicate`, exactly as
a scenario file would.

* Granovetter (1978), "Threshold models of collective behavior", AJS 83(6): the riot
  example and normally distributed thresholds.
* Watts (2002), "A simple model of global cascades on random networks", PNAS 99(9): the
  cascade window of fractional thresholds on Erdős–Rényi graphs, N = 10^4.
* Centola & Macy (2007), "Complex contagions and the weakness of long ties", AJS 113(3):
  simple against complex contagion on a ring lattice under Watts–Strogatz rewiring.
"""

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import norm, poisson

from normsim.models.threshold.dynamics import ThresholdRun, run_replicate, simulate
from normsim.models.threshold.networks import complete
from normsim.scenario import from_dict

pytestmark = pytest.mark.slow


def seeds(master: int, count: int) -> list[int]:
    """Independent integer replicate seeds, derived in advance from a master seed."""
    children = np.random.SeedSequence(master).spawn(count)
    return [int(child.generate_state(1, np.uint32)[0]) for child in children]


# --------------------------------------------------------------------------- Granovetter 1978

CROWD = 100
"""Granovetter's crowd: 100 people, each seeing everyone (a complete graph)."""


def riot(thresholds: np.ndarray) -> ThresholdRun:
    """Granovetter's riot: absolute thresholds (how many others must riot first)."""
    return simulate(
        complete(CROWD), thresholds, np.zeros(CROWD, dtype=bool), 10 * CROWD, absolute=True
    )


def test_granovetter_riot_example() -> None:
    """Thresholds 0, 1, ..., 99: the instigator (threshold 0) riots at step 1, which moves
    the person with threshold 1 at step 2, and so on: a domino effect in which everyone
    riots, person ``i`` at step ``i + 1``. Moving the threshold-1 person to threshold 2
    leaves nobody with threshold 1, so the riot stops with the instigator alone: "the
    newspapers would report ... a lone troublemaker". Exact, no tolerance.
    """
    thresholds = np.arange(CROWD, dtype=float)
    everyone = riot(thresholds)
    assert everyone.final_share == 1.0
    assert everyone.adoption_step.tolist() == list(range(1, CROWD + 1))
    thresholds[1] = 2
    alone = riot(thresholds)
    assert alone.final_share == 1 / CROWD
    assert alone.adoption_step[0] == 1 and alone.steps_run == 1


MEAN = 25.0
"""Granovetter's normal thresholds have mean 25 (people, in a crowd of 100)."""


def equilibrium(sd: float) -> float:
    """Granovetter's equilibrium number of rioters for N(25, sd) thresholds.

    With ``F`` the threshold CDF, ``r(t+1) = N F(r(t))`` from ``r(0) = 0`` rises to the
    first crossing of ``N F(r)`` with the 45-degree line ``r``: the smallest root of
    ``g(r) = N F(r) - r`` (``g(0) > 0``), found on a fine grid and refined by Brent's method.
    """
    grid = np.linspace(0.0, CROWD, 20_001)
    g = CROWD * norm.cdf((grid - MEAN) / sd) - grid
    first = int(np.argmax(g <= 0))
    if g[first] == 0:
        return float(grid[first])
    return brentq(lambda r: CROWD * norm.cdf((r - MEAN) / sd) - r, grid[first - 1], grid[first])


def critical_sd() -> float:
    """The sd at which the low equilibrium disappears (the curve touches the diagonal)."""
    return brentq(lambda sd: equilibrium(sd) - MEAN, 5.0, 20.0, xtol=1e-6)


def test_granovetter_critical_sd_is_12_2() -> None:
    """Granovetter: with mean 25, the equilibrium jumps from a handful of rioters to nearly
    the whole crowd as the sd crosses about 12.2. The analytic fixed point reproduces it
    (tolerance 0.1, the precision of the published figure), with the equilibrium just below
    it under 6 rioters and just above it over 99.
    """
    sd_c = critical_sd()
    assert sd_c == pytest.approx(12.2, abs=0.1)
    assert equilibrium(sd_c - 0.05) < 6
    assert equilibrium(sd_c + 0.05) > 99


def quantile_thresholds(sd: float) -> np.ndarray:
    """The crowd whose thresholds follow N(25, sd) most closely: the quantiles
    ``F^-1((i + 1/2) / N)``. Negative thresholds act as 0 (riot unprompted)."""
    levels = (np.arange(CROWD) + 0.5) / CROWD
    return np.maximum(MEAN + sd * norm.ppf(levels), 0.0)


@pytest.mark.parametrize("sd", [2.0, 6.0, 8.0, 10.0, 11.0, 13.5, 15.0, 20.0, 30.0])
def test_granovetter_normal_thresholds_match_the_analytic_equilibrium(sd: float) -> None:
    """With quantile thresholds the simulated riot follows ``r(t+1) = round(N F(r(t)))``:
    the continuous map rounded to whole people. Its fixed point is the analytic one to
    within 2 people wherever the slope of ``N F`` at the crossing is well below 1, which
    holds at least 1 sd unit away from the critical sd (tested nearer, the rounding can
    shift the tangency itself, see the next test).
    """
    simulated = riot(quantile_thresholds(sd)).final_share * CROWD
    assert simulated == pytest.approx(equilibrium(sd), abs=2.0)


def test_granovetter_sharp_jump_in_the_simulated_crowd() -> None:
    """Sweeping the sd from 10 to 15 in steps of 0.05, the simulated equilibrium is a step
    function: at most 6 rioters below one sd, the whole crowd above it, and nothing in
    between. The step lies within 1.0 of the analytic critical sd (a crowd of 100 whole
    people rounds ``N F`` by up to 1/2 person per step, which moves the tangency).
    """
    sds = np.round(np.arange(10.0, 15.0001, 0.05), 2)
    rioters = np.array([riot(quantile_thresholds(sd)).final_share * CROWD for sd in sds])
    high = rioters >= 99
    jump = int(np.argmax(high))
    assert jump > 0 and high[jump:].all() and not high[:jump].any()
    assert rioters[:jump].max() <= 6
    assert sds[jump] == pytest.approx(critical_sd(), abs=1.0)


@pytest.mark.parametrize("sd", [4.0, 8.0, 20.0, 25.0])
def test_granovetter_random_normal_crowds(sd: float) -> None:
    """Crowds of 100 drawn at random from N(25, sd), one per replicate (400 replicates).
    Far from the critical sd the median crowd reaches the analytic equilibrium rounded to
    whole people (0 at sd 4 and 8; 100 at sd 20 and 25), and the share of crowds ending in
    a full riot (>= 90 people) is 0 below the critical sd and at least 0.97 above it;
    sampling noise in 100 thresholds stalls a cascade at sd 20 about once in 400 runs, so
    0.97 leaves a wide binomial margin (P[X > 12 | 400, 0.0025] < 1e-9).
    """
    spec = {
        "kind": "threshold",
        "network": {"generator": "complete", "n": CROWD},
        "absolute_threshold": {"distribution": "normal", "mean": MEAN, "sd": sd},
        "initial_adopters": {"random": 0},
        "steps": 10 * CROWD,
    }
    spec = from_dict(spec).data  # through the scenario schema, as a file goes
    rioters = np.array(
        [run_replicate(spec, seed).final_share * CROWD for seed in seeds(int(sd * 10), 400)]
    )
    assert np.median(rioters) == round(equilibrium(sd))
    full = np.mean(rioters >= 90)
    if sd < critical_sd():
        assert full == 0
    else:
        assert full >= 0.97


# --------------------------------------------------------------------------- Watts 2002

PHI = 0.18
"""Watts's uniform fractional threshold in Figs. 1-2."""
WATTS_N = 10_000
"""Watts's network size."""
CASCADE = 0.1
"""A global cascade: final adopter share above this. The share is bimodal at N = 10^4
(cascades in the window reach most of the giant component), so any cut-off between 1% and
40% counts the same runs away from z = 1."""
K = np.arange(0, 400)


def vulnerable(k: np.ndarray) -> np.ndarray:
    """Watts's vulnerable nodes: those a single adopting neighbour tips, 1/k >= phi."""
    return (k >= 1) & (1.0 / np.maximum(k, 1) >= PHI)


def cascade_condition(z: float) -> float:
    """Watts's cascade condition on a Poisson graph, ``sum_k k (k-1) rho_k p_k = z``
    (the vulnerable cluster percolates where the left side exceeds z); returns the
    difference, whose roots bound the cascade window."""
    p = poisson.pmf(K, z)
    return float(np.sum(K * (K - 1) * vulnerable(K) * p) - z)


def cascade_probability(z: float) -> float:
    """Probability that one random seed triggers a global cascade on an infinite graph.

    A tie followed from the seed fails to reach the percolating vulnerable cluster with
    probability ``v``, the smallest root of ``v = 1 - sum_k q_k rho_k (1 - v^(k-1))`` with
    ``q_k = k p_k / z`` the degree of the node a tie leads to; the seed (active whatever
    its own threshold) triggers a cascade unless all its ties fail:
    ``1 - G0(v) = 1 - sum_k p_k v^k`` (Watts 2002's vulnerable-cluster argument, in the
    exact form of Gleeson & Cahalane 2007).
    """
    p = poisson.pmf(K, z)
    q = K * p / z
    rho = vulnerable(K)
    v = 0.0
    for _ in range(100_000):
        updated = 1.0 - np.sum(q * rho * (1.0 - v ** np.maximum(K - 1, 0)))
        if abs(updated - v) < 1e-14:
            break
        v = updated
    return float(1.0 - np.sum(p * v**K))


def cascade_frequency(z: float, runs: int) -> float:
    spec = {
        "kind": "threshold",
        "network": {"generator": "erdos_renyi", "n": WATTS_N, "mean_degree": z},
        "threshold": {"distribution": "constant", "value": PHI},
        "initial_adopters": {"random": 1},
        "steps": WATTS_N,
    }
    spec = from_dict(spec).data
    sizes = [run_replicate(spec, seed).final_share for seed in seeds(int(z * 100), runs)]
    return float(np.mean(np.asarray(sizes) > CASCADE))


def test_watts_cascade_window_boundaries() -> None:
    """Watts's window for phi = 0.18 on Poisson graphs: only nodes of degree k <= 5 are
    vulnerable, and the condition ``z e^{-z} (1 + z + z^2/2 + z^3/6) = 1`` has roots near
    z = 1 (the giant component appears) and below 6 (vulnerable nodes grow too rare).
    Computed, not copied: 1.02 and 5.76 (to 0.01).
    """
    low = brentq(cascade_condition, 0.5, 2.0)
    high = brentq(cascade_condition, 3.0, 9.0)
    assert low == pytest.approx(1.02, abs=0.01)
    assert high == pytest.approx(5.76, abs=0.01)
    for z in (2.0, 3.0, 4.0, 5.0):
        assert cascade_condition(z) > 0
    for z in (0.5, 7.0, 8.0, 10.0):
        assert cascade_condition(z) < 0


@pytest.mark.parametrize("z", [2.0, 3.0, 4.0])
def test_watts_cascade_frequency_inside_the_window(z: float) -> None:
    """Inside the window, the share of 400 single-seed runs (a new graph each) that cascade
    matches the analytic probability (0.75, 0.87, 0.87 at z = 2, 3, 4) within three
    binomial standard errors plus 0.03 for the finite size N = 10^4 (Watts's Fig. 2
    simulations sit this close to the theory in the interior of the window).
    """
    expected = cascade_probability(z)
    observed = cascade_frequency(z, 400)
    tolerance = 3 * np.sqrt(expected * (1 - expected) / 400) + 0.03
    assert observed == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize("z", [0.5, 7.0, 8.0, 10.0])
def test_watts_no_cascades_outside_the_window(z: float) -> None:
    """Outside the window global cascades vanish: below z = 1 there is no giant component,
    above the upper boundary the vulnerable nodes form only finite clusters, so the
    analytic probability is 0. Finite size allows rare ones near the boundary; we allow
    at most 2% of 200 runs (the engine gives none here).
    """
    assert cascade_probability(z) < 1e-6
    assert cascade_frequency(z, 200) <= 0.02


def test_watts_window_is_sharp_at_the_upper_edge() -> None:
    """Just inside the upper boundary (z = 5, analytic probability 0.70) cascades are
    still common, two degrees further (z = 7) they are gone: Watts's discontinuous upper
    edge of the window. At least 0.5 of 200 runs at z = 5 (more than 5 standard errors
    below 0.70 would be needed to fail), at most 0.02 at z = 7.
    """
    assert cascade_probability(5.0) == pytest.approx(0.70, abs=0.01)
    assert cascade_frequency(5.0, 200) >= 0.5


# --------------------------------------------------------------------------- Centola & Macy 2007

RING_N = 1000
"""A ring of 1000 nodes, the size of Watts & Strogatz's (1998) small-world model, which
Centola & Macy rewire; the comparisons below are qualitative and do not depend on N."""
RING_K = 6
"""Each node tied to its three nearest neighbours on either side: bridges between adjacent
neighbourhoods are three ties wide, so thresholds 1, 2 and 3 can cross them."""


def ring_run(threshold: int, p: float, seed: int) -> ThresholdRun:
    """One run from a seed neighbourhood (a node and its k neighbours, as Centola & Macy
    seed complex contagions) on a Watts–Strogatz graph with rewiring probability p."""
    half = RING_K // 2
    spec = {
        "kind": "threshold",
        "network": {"generator": "watts_strogatz", "n": RING_N, "k": RING_K, "p": p},
        "absolute_threshold": threshold,
        "initial_adopters": {"nodes": [i % RING_N for i in range(-half, half + 1)]},
        "steps": 100 * RING_N,
    }
    return run_replicate(from_dict(spec).data, seed)


@pytest.mark.parametrize("threshold", [1, 2, 3])
def test_centola_macy_lattice_front_speed(threshold: int) -> None:
    """On the unrewired lattice a node ``d`` places beyond the front has ``k/2 - d + 1``
    adopting neighbours, so it adopts when ``d <= a = k/2 - threshold + 1``: the front
    advances ``a`` nodes per step on either side (3, 2 and 1 for thresholds 1, 2, 3 with
    k = 6), exactly, until the fronts meet, and the whole ring adopts after
    ``ceil(R / 2a)`` steps, ``R = N - (k + 1)``, or one fewer when the nodes left between
    the meeting fronts are reached from both sides at once. Complex contagion is slower
    even without long ties.
    """
    run = ring_run(threshold, 0.0, seed=0)
    a = RING_K // 2 - threshold + 1
    remaining = RING_N - (RING_K + 1)
    growth = np.diff(run.adopter_share * RING_N)
    np.testing.assert_allclose(growth[:-1], 2 * a)
    assert run.final_share == 1.0
    assert run.steps_run in (
        int(np.ceil(remaining / (2 * a))) - 1,
        int(np.ceil(remaining / (2 * a))),
    )


def test_centola_macy_threshold_above_bridge_width_cannot_spread() -> None:
    """A threshold of 4 exceeds the three-tie bridge: no node outside the seed
    neighbourhood ever has 4 adopting neighbours, so nothing spreads (exact)."""
    run = ring_run(4, 0.0, seed=0)
    assert run.steps_run == 0
    assert run.final_share == (RING_K + 1) / RING_N


def test_centola_macy_long_ties_help_simple_but_not_complex_contagion() -> None:
    """Centola & Macy's reversal. Rewiring a few ties (p = 0.01, about 30 long ties)
    makes a simple contagion (threshold 1) saturate the ring several times faster (small
    world: path lengths collapse), while a complex contagion (threshold 2) gains almost
    nothing: one long tie brings a single adopting neighbour to a distant node, and a
    complex contagion needs two. Tolerances over 100 runs each: simple contagion's median
    time to saturation falls at least threefold (about sixfold here) and at least
    tenfold at p = 0.1, and it always saturates; complex contagion's median time stays
    within 20% of the lattice's, and it saturates in at least 95% of runs.
    """
    lattice_simple = ring_run(1, 0.0, 0).steps_run
    lattice_complex = ring_run(2, 0.0, 0).steps_run
    simple = {p: [ring_run(1, p, s) for s in seeds(101 + int(p * 100), 100)] for p in (0.01, 0.1)}
    complex_ = [ring_run(2, 0.01, s) for s in seeds(201, 100)]
    for runs in simple.values():
        assert all(run.final_share == 1.0 for run in runs)
    assert np.median([r.steps_run for r in simple[0.01]]) <= lattice_simple / 3
    assert np.median([r.steps_run for r in simple[0.1]]) <= lattice_simple / 10
    assert np.mean([run.final_share == 1.0 for run in complex_]) >= 0.95
    assert np.median([r.steps_run for r in complex_]) >= 0.8 * lattice_complex


def test_centola_macy_rewiring_blocks_complex_contagion() -> None:
    """ "Long ties not only fail to speed up complex contagions, they can even preclude
    diffusion entirely": each rewired tie takes a local tie away, narrowing the bridges
    the front must cross; once gaps appear everywhere the front stalls. The share of runs
    in which threshold-2 contagion saturates the ring falls from 1 on the lattice to at
    most 0.2 at p = 0.3 (about 0.03 here) and at most 0.02 on a fully random graph
    (p = 1), over 100 runs each, while simple contagion saturates in every run at every p.
    """
    saturated = {}
    for p in (0.1, 0.3, 1.0):
        runs = [ring_run(2, p, s) for s in seeds(300 + int(p * 100), 100)]
        saturated[p] = np.mean([run.final_share == 1.0 for run in runs])
        simple = [ring_run(1, p, s) for s in seeds(400 + int(p * 100), 20)]
        assert all(run.final_share == 1.0 for run in simple)
    assert ring_run(2, 0.0, 0).final_share == 1.0
    assert saturated[0.1] >= saturated[0.3] >= saturated[1.0]
    assert saturated[0.3] <= 0.2
    assert saturated[1.0] <= 0.02
