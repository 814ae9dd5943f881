"""normsim's threshold engine against NDlib's ThresholdModel, same graph, same inputs.

NDlib (``ndlib.models.epidemics.ThresholdModel``, read in the installed 6.0.1 source):

* synchronous: ``iteration`` copies the status, reads every neighbour from the old status
  and swaps afterwards, so everyone reads step t-1, as in normsim;
* a susceptible node with neighbours becomes infected when ``infected / len(neighbors) >=
  threshold`` (``>=``, unweighted, float division), the fractional rule normsim uses for
  unit weights; a node without neighbours never adopts; infected nodes never recover;
* ``DiffusionModel.__init__`` calls ``np.random.seed(seed)`` on numpy's global generator
  (normsim never uses that generator, so this does not disturb it).

NDlib's time is model construction, configuration (initial adopters and one threshold per
node) and iterations until an iteration changes nothing; normsim's is one :func:`simulate`
call with its default input validation. Neither includes building its graph object. The
final adopter sets must be identical or the benchmark fails.
"""

import time
import warnings

import numpy as np

from normsim.models.threshold.dynamics import simulate
from normsim.models.threshold.networks import build_network


def ndlib_available() -> str | None:
    """None if NDlib imports, else the reason it does not."""
    try:
        import ndlib.models.epidemics
        import ndlib.models.ModelConfig  # noqa: F401
    except Exception as error:  # any import failure means "not available"
        return f"{type(error).__name__}: {error}"
    return None


def _run_ndlib(graph: object, thresholds: np.ndarray, initial: np.ndarray) -> np.ndarray:
    import ndlib.models.epidemics as ep
    import ndlib.models.ModelConfig as mc

    model = ep.ThresholdModel(graph)
    config = mc.Configuration()
    config.add_model_initial_configuration("Infected", np.flatnonzero(initial).tolist())
    for node, value in enumerate(thresholds.tolist()):
        config.add_node_configuration("threshold", node, value)
    model.set_initial_status(config)
    while True:
        result = model.iteration(node_status=False)
        if result["iteration"] > 0 and result["status_delta"][1] == 0:
            break
    status = model.status
    return np.fromiter((status[i] == 1 for i in range(len(thresholds))), bool, len(thresholds))


def compare(
    n: int, workload: str, seeds: list[int], repeats: int = 3, mean_degree: float = 4.0
) -> dict[str, float | int | bool]:
    """Total NDlib time over total normsim time for the same runs.

    Each run is timed ``repeats`` times on either side, alternating, and the best time of
    each side counts (the usual ``timeit`` rule: the minimum is least disturbed by other
    load on the machine); the same rule applies to both.

    Workloads: ``watts``: threshold 0.18 and one random initial adopter (Watts 2002);
    ``uniform``: thresholds uniform on [0.1, 0.3] and 0.5% of nodes as initial adopters.
    """
    import networkx as nx

    ndlib_seconds = normsim_seconds = 0.0
    identical = True
    cascades = 0
    for seed in seeds:
        rng = np.random.default_rng(seed)
        adjacency = build_network(
            {"generator": "erdos_renyi", "n": n, "mean_degree": mean_degree}, rng
        )
        if workload == "watts":
            thresholds = np.full(n, 0.18)
            initial = np.zeros(n, dtype=bool)
            initial[rng.integers(n)] = True
        else:
            thresholds = rng.uniform(0.1, 0.3, size=n)
            initial = np.zeros(n, dtype=bool)
            initial[rng.choice(n, size=n // 200, replace=False)] = True
        upper = adjacency.tocoo()
        keep = upper.row < upper.col
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from(zip(upper.row[keep].tolist(), upper.col[keep].tolist(), strict=True))
        theirs_times, ours_times = [], []
        for _ in range(repeats):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                theirs = _run_ndlib(graph, thresholds, initial)
                theirs_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            ours = simulate(adjacency, thresholds, initial, 10 * n)
            ours_times.append(time.perf_counter() - t0)
        ndlib_seconds += min(theirs_times)
        normsim_seconds += min(ours_times)
        identical &= bool(np.array_equal(theirs, ours.adopted))
        cascades += ours.final_share > 0.1
    return {
        "runs": len(seeds),
        "cascades": cascades,
        "ndlib_seconds": ndlib_seconds,
        "normsim_seconds": normsim_seconds,
        "speedup": ndlib_seconds / normsim_seconds,
        "identical": identical,
    }
