"""The ASEAN model: replicate throughput of the batch engine against one Mesa model per run.

Each engine runs at the size it is used at: the batch engine advances thousands of
replicates at once, the Mesa engine builds one model per replicate. Throughput
(replicates per second, tables included) is compared, and the runs tables of the seeds both
engines ran (the Mesa seeds are a prefix of the batch seeds) are checked identical.
"""

import time
from pathlib import Path

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
