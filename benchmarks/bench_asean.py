"""The ASEAN model: the batch engine against one Mesa model per run, and against bare draws.

``compare``: each engine runs at the size it is used at: the batch engine advances
thousands of replicates at once, the Mesa engine builds one model per replicate. Throughput
(replicates per second, tables included) is compared, and the runs tables of the seeds both
engines ran (the Mesa seeds are a prefix of the batch seeds) are checked identical.

``engine_over_rng_floor``: the time the batch engine takes to advance 2,000 replicates of
asean-2024 for its 16 steps, from their integer run seeds to the final state (the engine's
whole cost: the replicates' random streams included, no tables), over the time of one bulk
``Generator.standard_normal`` call drawing as many standard normals (2000 x 17 x 10); the
two are timed in turns, best of several repeats each. A few of the replicates are run again
alone and checked identical to their rows of the batch.
"""

import time
from pathlib import Path

import numpy as np

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "asean-2024.yaml"


def _best(fn, repeats: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def compare(batch_replicates: int, mesa_replicates: int, repeats: int) -> dict[str, object]:
    """Best-of-``repeats`` throughput of ``run_scenario`` with each engine, same seeds."""
    try:
        from normsim.experiments.replicates import run_scenario
        from normsim.scenario import load_scenario
    except ImportError as error:
        return {"error": f"ASEAN API not importable ({error})"}
    scenario = load_scenario(SCENARIO)
    batch_s, batch = _best(lambda: run_scenario(scenario, batch_replicates, 1), repeats)
    mesa_s, mesa = _best(lambda: run_scenario(scenario, mesa_replicates, 1, engine="mesa"),
                         repeats)
    batch_rate, mesa_rate = batch_replicates / batch_s, mesa_replicates / mesa_s
    same = batch.runs.head(mesa_replicates).equals(mesa.runs)
    return {
        "batch_replicates": batch_replicates,
        "mesa_replicates": mesa_replicates,
        "batch_replicates_per_second": batch_rate,
        "mesa_replicates_per_second": mesa_rate,
        "speedup": batch_rate / mesa_rate,
        "same_runs_table": bool(same),
    }


def engine_over_rng_floor(replicates: int = 2000, repeats: int = 15) -> dict[str, object]:
    """The batch engine's time over the bare draw of its standard normals, side by side."""
    try:
        from normsim.models.region.dynamics import advance, initial_state
        from normsim.models.region.params import build_params
        from normsim.scenario import load_scenario
        from normsim.seeds import replicate_seeds
    except ImportError as error:
        return {"error": f"ASEAN API not importable ({error})"}
    params = build_params(load_scenario(SCENARIO))
    seeds = replicate_seeds(1, replicates)
    normals = replicates * (params.steps + 1) * params.n_states

    def engine(run_seeds: list[int]) -> object:
        state = initial_state(params, run_seeds)
        for _ in range(params.steps):
            advance(state, params)
        return state

    def floor() -> None:
        np.random.default_rng(1).standard_normal(normals)

    engine_s = floor_s = float("inf")
    for _ in range(repeats):  # in turns, so that both see the same load
        t0 = time.perf_counter()
        state = engine(seeds)
        t1 = time.perf_counter()
        floor()
        t2 = time.perf_counter()
        engine_s, floor_s = min(engine_s, t1 - t0), min(floor_s, t2 - t1)
    picks = [0, replicates // 2, replicates - 1]
    alone = engine([seeds[i] for i in picks])
    same = all(np.array_equal(getattr(state, name)[..., picks], getattr(alone, name))
               for name in ("support", "stage", "norms", "regional", "institution"))
    return {
        "replicates": replicates,
        "steps": params.steps,
        "normals": normals,
        "engine_ms": engine_s * 1e3,
        "floor_ms": floor_s * 1e3,
        "ratio": engine_s / floor_s,
        "same_runs_alone": bool(same),
    }
