"""The calibration's fast path: pattern statistics from the trajectories equal the tables'."""

import numpy as np
import pandas as pd
import pytest

from normsim.analysis.patterns import PatternDataError, statistic
from normsim.experiments.calibration import simulate_targets
from normsim.experiments.calibrationfile import load_calibration
from normsim.experiments.patterns import load_patterns
from normsim.experiments.replicates import run_scenario
from normsim.models import get_kind
from normsim.scenario import load_scenario
from normsim.seeds import replicate_seeds

# Variants of every statistic kind beyond those of the shipped pattern files.
VARIANTS = [
    {"kind": "summit", "years": [2003, 2011, 2015]},
    {"kind": "summit", "year": 2011, "outcome": ["adopted"]},
    {"kind": "summit", "years": [2011, 2015], "version": "training_network"},
    {"kind": "summit", "years": [2011, 2015], "version": "standing_force",
     "outcome": ["failed"]},
    {"kind": "summit", "years": [2003, 2011], "tabled_not": ["standing_force"]},
    {"kind": "summit", "year": 2003, "blockers_include": ["SGP"]},
    {"kind": "summit", "years": [2003, 2015], "outcome": ["withdrawn", "failed"],
     "blockers_include": ["VNM", "MMR", "XXX"]},
    {"kind": "adopters", "year": 2020, "include": ["IDN", "MYS"]},
    {"kind": "adopters", "year": 2023, "exclude": ["SGP"], "min_count": 2},
    {"kind": "adopters", "year": 2023, "max_count": 1},
    {"kind": "adopters", "year": 2016, "only": ["IDN", "MYS"]},
    {"kind": "version_adopted", "by": 2012, "version": "training_network"},
    {"kind": "version_adopted", "between": [2011, 2011], "versions": ["training_network"]},
    {"kind": "version_adopted", "by": 2023, "version": "standby_group", "adopted": False},
    {"kind": "regional_stage", "year": 2023, "stage": ["cascade", "internalization"]},
    {"kind": "regional_stage", "year": 2010, "stage": ["emergence"]},
    {"kind": "regional_stage", "never_tipped_by": 2015},
    {"kind": "support_broader", "earlier": 2003, "later": 2015},
    {"kind": "support_broader", "earlier": 2010, "later": 2010},
    {"kind": "support_broader", "earlier": 2002, "later": 2023, "measure": "near_threshold",
     "margin": 0.25},
    {"kind": "speedup_after_tipping"},
    {"kind": "speedup_after_tipping", "window": 1},
    {"kind": "speedup_after_tipping", "window": 30},
]


def _both(scenario, stats, replicates, seed):
    """Each statistic's values from the tables and from the trajectories, by run."""
    kind = get_kind(scenario.kind)
    res = run_scenario(scenario, replicates, seed, agents=True)
    raw = kind.simulate(scenario, replicate_seeds(seed, replicates), agents=False)
    fast = kind.statistics(scenario, raw, stats)
    for stat, values in zip(stats, fast, strict=True):
        table = statistic(stat, res.runs, res.steps, res.agents).to_numpy(dtype=float,
                                                                          na_value=np.nan)
        yield stat, table, values


def test_every_pattern_statistic_from_the_arrays_equals_the_tables():
    patterns = load_patterns("asean-history")
    by_scenario: dict[str, tuple[object, list]] = {}
    for p in patterns.patterns:
        by_scenario.setdefault(p.scenario.name, (p.scenario, []))[1].append(p.statistic)
    history = load_scenario("asean-2003")
    by_scenario["variants"] = (history, VARIANTS)
    for resistance in (0.04, 0.08):  # more runs that tip
        by_scenario[f"resistance {resistance}"] = (
            history.with_overrides({"dynamics.resistance": resistance}), VARIANTS)
    applied = 0
    for scenario, stats in by_scenario.values():
        for stat, table, values in _both(scenario, stats, 300, 5):
            np.testing.assert_array_equal(values, table, err_msg=str(stat))
            applied += int((~np.isnan(values)).any() and np.nanstd(values) > 0)
    assert applied > 20, "the runs should tell the statistics' values apart"


def test_a_year_the_runs_do_not_hold_is_an_error_on_both_paths():
    scenario = load_scenario("asean-2015")
    kind = get_kind(scenario.kind)
    raw = kind.simulate(scenario, replicate_seeds(0, 2))
    res = run_scenario(scenario, 2, 0)
    for stat in ({"kind": "summit", "year": 2003}, {"kind": "adopters", "year": 2050},
                 {"kind": "support_broader", "earlier": 2003, "later": 2020}):
        with pytest.raises(PatternDataError, match="is not in the runs"):
            statistic(stat, res.runs, res.steps, res.agents)
        with pytest.raises(PatternDataError, match="is not in the runs"):
            kind.statistics(scenario, raw, [stat])


def test_the_calibrations_fast_path_equals_the_tables_path():
    cal = load_calibration("asean-history")
    rng = np.random.default_rng(3)
    rows = []
    for i in range(40):
        theta = {p.name: float(p.rv().rvs(random_state=rng)) for p in cal.priors}
        runs = 1 if i % 4 else 20
        fast = simulate_targets(cal, theta, runs)
        assert fast == simulate_targets(cal, theta, runs, tables=True), theta
        rows.append(fast)
    shares = pd.DataFrame(rows)
    assert (shares.nunique() > 1).sum() >= 3, "the particles should differ on some targets"
