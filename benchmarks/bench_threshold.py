"""Threshold-engine benchmarks: step cost against a bare CSR matvec, memory, Watts window.

Every figure is measured here, in the same process, on the same graph; nothing is assumed.
"""

import time
import tracemalloc

import numpy as np

from normsim.models.threshold.dynamics import ThresholdDynamics, run_replicate, simulate
from normsim.models.threshold.networks import build_network


def replicate_seeds(master: int, count: int) -> list[int]:
    """Independent integer seeds, derived in advance from a master seed."""
    children = np.random.SeedSequence(master).spawn(count)
    return [int(child.generate_state(1, np.uint32)[0]) for child in children]


def er_spec(n: int, mean_degree: float = 4.0) -> dict:
    return {"generator": "erdos_renyi", "n": n, "mean_degree": mean_degree}


def step_versus_matvec(n: int, repeats: int, seed: int = 1) -> dict:
    """One synchronous step against one ``A @ x`` on the same Erdős–Rényi graph (z = 4).

    Workload: fractional threshold 0.18 (Watts 2002), 0.1% of the nodes as initial
    adopters, so that the run is a full global cascade whose frontier sweeps through a
    large share of the graph. Each repeat times five float64 CSR matvecs ``A @ x`` (x a
    random 0/1 vector), then the run step by step. The run is the same in every repeat, so
    each step's time is its median over the repeats (which discounts scheduler jitter, not
    slow steps); the figures are the slowest step, the mean step, and a whole
    :func:`simulate` call (validation and set-up included) per step taken, each against
    the median matvec.
    """
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    adjacency = build_network(er_spec(n), rng)
    build_seconds = time.perf_counter() - started
    thresholds = np.full(n, 0.18)
    initial = np.zeros(n, dtype=bool)
    initial[rng.choice(n, size=max(1, n // 1000), replace=False)] = True
    x = (rng.random(n) < 0.5).astype(np.float64)
    matvec, steps, whole = [], [], []
    steps_run = 0
    final = 0.0
    for _ in range(repeats):
        for _ in range(5):
            t0 = time.perf_counter()
            adjacency @ x
            matvec.append(time.perf_counter() - t0)
        dynamics = ThresholdDynamics(adjacency, thresholds, initial, validate=False)
        times = []
        while True:
            t0 = time.perf_counter()
            added = dynamics.step()
            times.append(time.perf_counter() - t0)
            if not added:
                break
        steps.append(times)
        t0 = time.perf_counter()
        run = simulate(adjacency, thresholds, initial, 10 * n)
        whole.append((time.perf_counter() - t0) / max(run.steps_run, 1))
        steps_run, final = run.steps_run, run.final_share
    mv = float(np.median(matvec))
    per_step = np.median(np.asarray(steps), axis=0)  # every repeat takes the same steps
    slowest, mean = float(per_step.max()), float(per_step.mean())
    return {
        "n": n,
        "edges": adjacency.nnz // 2,
        "build_seconds": build_seconds,
        "matvec_ms": mv * 1e3,
        "step_max_ms": slowest * 1e3,
        "step_mean_ms": mean * 1e3,
        "run_per_step_ms": float(np.median(whole)) * 1e3,
        "step_max_over_matvec": slowest / mv,
        "step_mean_over_matvec": mean / mv,
        "run_per_step_over_matvec": float(np.median(whole)) / mv,
        "steps_run": steps_run,
        "final_share": final,
    }


def memory(n: int, seed: int = 1) -> dict:
    """Bytes per node and per undirected tie of the graph, and the engine's peak per agent.

    The graph figure counts the CSR arrays (float64 weights and int32 column indices for
    both directions of each tie, int32 row pointers per node). The engine figure is the
    peak of all memory traced (``tracemalloc`` sees numpy's allocations) during one
    :func:`simulate` call on the workload of :func:`step_versus_matvec`, beyond the graph
    and the inputs, divided by the number of agents (it includes the transient arrays of
    set-up and of the largest step); the state figure counts only the per-node arrays the
    engine keeps while it runs.
    """
    rng = np.random.default_rng(seed)
    adjacency = build_network(er_spec(n), rng)
    thresholds = np.full(n, 0.18)
    initial = np.zeros(n, dtype=bool)
    initial[rng.choice(n, size=max(1, n // 1000), replace=False)] = True
    ties = adjacency.nnz // 2
    per_edge = (adjacency.data.nbytes + adjacency.indices.nbytes) / ties
    per_node = adjacency.indptr.nbytes / n
    tracemalloc.start()
    simulate(adjacency, thresholds, initial, 10 * n, validate=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dynamics = ThresholdDynamics(adjacency, thresholds, initial, validate=False)
    while dynamics.step():
        pass
    state = sum(  # the per-node arrays the engine owns while it runs
        value.nbytes
        for value in vars(dynamics).values()
        if isinstance(value, np.ndarray) and value.base is None and value.shape == (n,)
    )
    return {
        "graph_bytes_per_edge": per_edge,
        "graph_bytes_per_node": per_node,
        "engine_peak_bytes_per_agent": peak / n,
        "engine_state_bytes_per_agent": state / n,
    }


def graph_build_seconds(n: int, repeats: int) -> dict:
    """Wall time to build each generator's graph at size n (median over repeats)."""
    specs = {
        "erdos_renyi z=4": er_spec(n),
        "watts_strogatz k=4 p=0.1": {"generator": "watts_strogatz", "n": n, "k": 4, "p": 0.1},
        "ring_lattice k=4": {"generator": "ring_lattice", "n": n, "k": 4},
    }
    out = {}
    for name, spec in specs.items():
        times = []
        for r in range(repeats):
            rng = np.random.default_rng(r)
            t0 = time.perf_counter()
            build_network(spec, rng)
            times.append(time.perf_counter() - t0)
        out[name] = float(np.median(times))
    return out


def watts_window(mean_degrees: list[float], runs: int, n: int = 10_000) -> dict:
    """Wall time of a Watts (2002) cascade-window reproduction, and what it found.

    For each mean degree z: ``runs`` replicates, each with its own Erdős–Rényi graph, the
    threshold 0.18 and one random initial adopter (:func:`run_replicate`, graph building
    included); a global cascade is a final share above 0.1.
    """
    frequency = {}
    started = time.perf_counter()
    for z in mean_degrees:
        spec = {
            "kind": "threshold",
            "network": er_spec(n, z),
            "threshold": {"distribution": "constant", "value": 0.18},
            "initial_adopters": {"random": 1},
            "steps": n,
        }
        sizes = [run_replicate(spec, s).final_share for s in replicate_seeds(int(z * 100), runs)]
        frequency[z] = float(np.mean(np.asarray(sizes) > 0.1))
    return {"seconds": time.perf_counter() - started, "runs": runs, "frequency": frequency}
