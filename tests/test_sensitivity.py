"""Sensitivity analysis: SALib bookkeeping, a known function, and a sweep with an inert input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normsim.analysis.sensitivity import (
    OUTCOMES,
    analyze,
    imprecise_parameters,
    morris_indices,
    outcome_columns,
    point_outcomes,
    precision_warning,
    sobol_indices,
)
from normsim.cli import main
from normsim.experiments.store import run_sweep
from normsim.experiments.sweepfile import parse_sweep


def ishigami(x: np.ndarray) -> np.ndarray:
    a, b = 7.0, 0.1
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_the_ishigami_function():
    from SALib.sample import sobol

    names = ["x1", "x2", "x3"]
    problem = {"num_vars": 3, "names": names, "bounds": [[0, 1]] * 3}
    unit = sobol.sample(problem, 4096, calc_second_order=False, seed=1)
    y = ishigami(-np.pi + 2 * np.pi * unit)
    table = sobol_indices(y, names, resamples=200, seed=1).set_index("parameter")
    # Analytic values (Ishigami & Homma 1990; a = 7, b = 0.1).
    np.testing.assert_allclose(table.S1, [0.3139, 0.4424, 0.0], atol=0.04)
    np.testing.assert_allclose(table.ST, [0.5576, 0.4424, 0.2437], atol=0.04)
    assert (table.S1_conf > 0).all()


def test_constant_output_gives_no_indices_rather_than_noise():
    table = sobol_indices(np.zeros(40), ["a", "b"])
    assert table[["S1", "ST"]].isna().all().all()


SWEEP = {
    "name": "inert",
    "scenario": "asean-2024",
    "overrides": {"end_year": 2040},
    "seed": 5,
    "replicates": 16,
    "uncertainties": {
        "design": {"kind": "sobol", "samples": 64},
        "parameters": {
            "resistance": {"key": "dynamics.resistance", "range": [0.05, 0.4]},
            # Under the standard framing the localized norm's appeal never enters the model.
            "appeal": {"key": "norm.localization.appeal", "range": [0.1, 1.0]},
        },
    },
}


@pytest.fixture(scope="module")
def sobol_sweep(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sens") / "out"
    run_sweep(parse_sweep(SWEEP), out, workers=1)
    return out


def test_the_driving_parameter_dominates_and_the_inert_one_does_not(sobol_sweep):
    table = analyze(sobol_sweep, resamples=300)
    assert set(table.outcome) == {"p_cascade", "tipping_year", "p_institutional"} <= set(OUTCOMES)
    assert (table.group == "all").all() and (table.points == 64 * 4).all()
    for outcome in ("p_cascade", "tipping_year"):
        part = table[table.outcome == outcome].set_index("parameter")
        assert part.loc["resistance", "ST"] > 0.5
        assert part.loc["resistance", "S1"] > 0.3
        assert (
            part.loc["resistance", "ST"] - part.loc["resistance", "ST_conf"]
            > part.loc["appeal", "ST"] + part.loc["appeal", "ST_conf"]
        )


def test_cli_sensitivity_writes_a_table_and_a_figure(sobol_sweep, capsys):
    assert main(["sensitivity", str(sobol_sweep), "--resamples", "100"]) == 0
    out = capsys.readouterr().out
    assert "P(cascade)" in out and "resistance" in out
    table = pd.read_csv(sobol_sweep / "sensitivity.csv")
    assert {"S1", "S1_conf", "ST", "ST_conf", "outcome", "parameter"} <= set(table.columns)
    figure = sobol_sweep / "figures" / "sensitivity.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_precise_analysis_gives_no_warning(sobol_sweep, capsys):
    assert precision_warning(analyze(sobol_sweep, resamples=300)) is None
    assert main(["sensitivity", str(sobol_sweep), "--resamples", "100"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_intervals_wider_than_the_index_are_flagged():
    table = pd.DataFrame(
        {
            "method": "sobol",
            "group": "all",
            "outcome": "p_cascade",
            "points": 32,
            "replicates": 2,
            "parameter": ["a", "b", "c", "d"],
            "S1": [0.6, -0.3, 0.01, 0.0],
            "S1_conf": [0.1, 1.0, 0.05, 0.0],
            "ST": [0.7, 0.2, 0.02, 0.0],
            "ST_conf": [0.1, 0.1, 0.03, 0.0],
        }
    )
    assert imprecise_parameters(table) == ["b"]  # c is ~0 within ±0.05: resolved enough
    assert imprecise_parameters(table.assign(ST_conf=[0.8, 0.1, 0.03, 0.0])) == ["a", "b"]
    morris = pd.DataFrame(
        {
            "method": "morris",
            "group": "all",
            "outcome": "p_cascade",
            "points": 30,
            "replicates": 2,
            "parameter": ["a", "b", "c"],
            "mu": 0.0,
            "sigma": 0.0,
            "mu_star": [1.0, 0.2, 0.0],
            "mu_star_conf": [0.2, 0.5, 0.0],
        }
    )
    assert imprecise_parameters(morris) == ["b"]


def test_cli_warns_when_a_tiny_design_gives_noise(tmp_path, capsys):
    tiny = {
        **SWEEP,
        # Localized, the region tips in about half the runs: 2 replicates a point are noise.
        "overrides": {**SWEEP["overrides"], "norm.framing": "localized"},
        "replicates": 2,
        "uncertainties": {**SWEEP["uncertainties"], "design": {"kind": "sobol", "samples": 8}},
    }
    run_sweep(parse_sweep(tiny), tmp_path / "tiny", workers=1)
    table = analyze(tmp_path / "tiny", resamples=100)
    wide = (table.S1_conf > table.S1.abs()) & (table.S1_conf > 0.1)
    assert wide.any()
    assert main(["sensitivity", str(tmp_path / "tiny"), "--resamples", "100"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("normsim: warning:")
    for name in set(table.parameter[wide]):
        assert name in err[0]
    assert "--samples" in err[0] and "32 points x 2 replicates" in err[0]


def test_sensitivity_of_a_grid_sweep_is_a_usage_error(tmp_path, capsys):
    grid = {
        **SWEEP,
        "replicates": 2,
        "uncertainties": {
            "parameters": {"resistance": {"key": "dynamics.resistance", "values": [0.1, 0.2]}}
        },
    }
    run_sweep(parse_sweep(grid), tmp_path / "grid", workers=1)
    assert main(["sensitivity", str(tmp_path / "grid")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs a sobol or morris design" in err[0]
    assert not (tmp_path / "grid" / "sensitivity.csv").exists()
    assert main(["sensitivity", str(tmp_path / "missing")]) == 2


def test_morris_screening_ranks_the_driving_parameter_first(tmp_path):
    morris = {
        **SWEEP,
        "uncertainties": {**SWEEP["uncertainties"], "design": {"kind": "morris", "samples": 12}},
    }
    run_sweep(parse_sweep(morris), tmp_path / "m", workers=1)
    table = analyze(tmp_path / "m", resamples=100)
    part = table[table.outcome == "p_cascade"].set_index("parameter")
    assert part.loc["resistance", "mu_star"] > 3 * part.loc["appeal", "mu_star"]
    assert (table.method == "morris").all()


def test_morris_indices_of_a_linear_function():
    from SALib.sample import morris

    problem = {"num_vars": 2, "names": ["a", "b"], "bounds": [[0, 1]] * 2}
    x = morris.sample(problem, 10, num_levels=4, seed=2)
    table = morris_indices(x, 3 * x[:, 0] + 0 * x[:, 1], ["a", "b"]).set_index("parameter")
    assert table.loc["a", "mu_star"] == pytest.approx(3.0)
    assert table.loc["b", "mu_star"] == pytest.approx(0.0)


THRESHOLD_SWEEP = {
    "name": "threshold-sobol",
    "scenario": "scenarios/threshold/watts-2002.yaml",
    "overrides": {"network.n": 400, "tipping_share": 0.1},
    "seed": 9,
    "replicates": 4,
    "uncertainties": {
        "design": {"kind": "sobol", "samples": 16},
        "parameters": {
            "mean_degree": {"key": "network.mean_degree", "range": [1.0, 10.0]},
            "threshold": {"key": "threshold.value", "range": [0.1, 0.26]},
        },
    },
}


def test_outcomes_follow_the_columns_of_the_runs():
    region = {"cascade_reached", "tipping_step", "tipping_year", "institutional_adoption",
              "final_adopter_share"}
    assert outcome_columns(region) == {"p_cascade": "cascade_reached",
                                       "tipping_year": "tipping_year",
                                       "p_institutional": "institutional_adoption"}
    threshold = {"cascade_reached", "tipping_step", "final_adopter_share"}
    assert outcome_columns(threshold) == {"p_cascade": "cascade_reached",
                                          "tipping_step": "tipping_step",
                                          "final_size": "final_adopter_share"}


def test_sensitivity_of_a_threshold_sweep(tmp_path, capsys):
    from .conftest import ROOT

    out = tmp_path / "threshold"
    run_sweep(parse_sweep(THRESHOLD_SWEEP, base_dir=ROOT), out, workers=1)
    assert main(["sensitivity", str(out), "--resamples", "50"]) == 0
    printed = capsys.readouterr().out
    assert "tipping step (censored)" in printed and "mean final size" in printed
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table.outcome) == {"p_cascade", "tipping_step", "final_size"}
    assert set(table.parameter) == {"mean_degree", "threshold"}
    runs = pd.read_parquet(out / "runs.parquet")
    means = point_outcomes(runs, 1000)
    assert means.final_size.between(0, 1).all()
    assert (means.tipping_step <= 1001).all()
    assert (out / "figures" / "sensitivity.png").is_file()
