"""The browser page's ensemble update: a lever moved to the figures shown, for R = 500.

``app.ensemble_update`` is what the page runs (in a thread) on every lever change: the
setting's scenario, R replicates on the batch engine, the statistics and the two figures.
It is timed against the bare ``run_scenario`` of the same replicates, side by side.
"""

import time


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def ensemble_update(replicates: int = 500, repeats: int = 3) -> dict[str, object]:
    """Best-of-``repeats`` seconds of one page update and of the bare replicates."""
    try:
        from normsim.experiments.replicates import run_scenario
        from normsim.scenario import load_scenario
        from normsim.viz import app
    except ImportError as error:
        return {"error": f"the viz extra is not importable ({error})"}
    name = "asean-2003"
    controls = app.model_params(name)
    values = {k: controls[k]["value"] for k in app.LEVER_NAMES}
    scenario = load_scenario(name)
    update = _best(lambda: app.ensemble_update(name, values, replicates, 0), repeats)
    bare = _best(lambda: run_scenario(scenario, replicates, 0, agents=False), repeats)
    return {"replicates": replicates, "scenario": name, "update_seconds": update,
            "run_scenario_seconds": bare, "update_over_run_scenario": update / bare}
