"""Figures: each function draws what it claims, and ``normsim plot`` writes every figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from normsim import plotting
from normsim.cli import main
from normsim.experiments.replicates import run_scenario
from normsim.experiments.store import run_sweep
from normsim.experiments.sweepfile import parse_sweep
from normsim.scenario import load_scenario

from .conftest import SCENARIOS

matplotlib.use("Agg")

SWEEP = {
    "name": "plots",
    "scenario": "asean-2024",
    "overrides": {"end_year": 2035},
    "seed": 1,
    "replicates": 40,
    "levers": {
        "parameters": {
            "framing": {"lever": "framing", "values": ["standard", "localized"]},
            "co_entrepreneur": {"lever": "co_entrepreneur", "values": [None, "THA"]},
            "entrepreneur_intensity": {"lever": "entrepreneur_intensity", "values": [0.2, 0.8]},
        }
    },
}


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plots") / "sweep"
    run_sweep(parse_sweep(SWEEP), out, workers=1)
    return out


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plots") / "run"
    results = run_scenario(load_scenario("asean-2024-localized"), 200, seed=3, agents=False)
    results.write(out)
    return out


@pytest.fixture(scope="module")
def threshold_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plots") / "threshold"
    scenario = load_scenario(SCENARIOS / "threshold" / "watts-2002.yaml", {"network.n": 2000})
    run_scenario(scenario, 30, seed=2).write(out)
    return out


def _texts(fig: Figure) -> str:
    parts = [t.get_text() for t in fig.texts]
    if fig._suptitle is not None:
        parts.append(fig._suptitle.get_text())
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        parts += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            parts += [t.get_text() for t in legend.get_texts()]
    return "\n".join(parts)


def test_trajectories_draw_the_labelled_one_third_line_and_stage_bands(run_dir):
    steps = pd.read_parquet(run_dir / "steps.parquet")
    fig = plotting.trajectories(steps, tipping_share=1 / 3)
    top = fig.axes[0]
    lines = [line for line in top.get_lines() if np.allclose(line.get_ydata(), 1 / 3)]
    assert lines, "no tipping line"
    text = _texts(fig)
    assert "one-third" in text and "norm emergence" in text and "norm cascade" in text
    assert top.get_ylabel() and fig.axes[1].get_xlabel() == "year"
    mean = top.get_lines()[0].get_ydata()
    np.testing.assert_allclose(mean, steps.groupby("year").adopter_share.mean())


def test_cascade_probability_matches_the_runs_with_wilson_bars(sweep_dir):
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    fig = plotting.cascade_probability(runs, "framing", end_year=2035)
    ax = fig.axes[0]
    points = ax.get_lines()[0].get_ydata()
    expected = runs.groupby("framing", sort=False).cascade_reached.mean()
    np.testing.assert_allclose(
        np.asarray(points, dtype=float), expected[["standard", "localized"]].to_numpy(dtype=float)
    )
    assert "P(cascade by 2035)" in ax.get_ylabel()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["standard", "localized"]


def test_lever_effects_put_the_largest_spread_first(sweep_dir):
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    names = ["framing", "co_entrepreneur", "entrepreneur_intensity"]
    spread = {
        n: runs.groupby(runs[n].astype(object).fillna("none")).cascade_reached.mean() for n in names
    }
    largest = max(names, key=lambda n: spread[n].max() - spread[n].min())
    fig = plotting.lever_effects(runs, names, end_year=2035)
    assert fig.axes[0].get_title().startswith(largest)


def test_heatmap_cells_are_marginal_probabilities(sweep_dir):
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    fig = plotting.cascade_heatmap(runs, "entrepreneur_intensity", "framing", end_year=2035)
    image = fig.axes[0].get_images()[0].get_array()
    expected = runs.pivot_table(
        index="framing",
        columns="entrepreneur_intensity",
        values="cascade_reached",
        aggfunc="mean",
        sort=False,
    )
    np.testing.assert_allclose(np.asarray(image), expected.loc[["standard", "localized"]])


def test_tipping_years_add_up_to_p_cascade(sweep_dir):
    runs = pd.read_parquet(sweep_dir / "runs.parquet")
    fig = plotting.tipping_years(runs, start_year=2024, end_year=2035)
    heights = sum(p.get_height() for p in fig.axes[0].patches)
    assert heights == pytest.approx(runs.cascade_reached.mean())


def test_adoption_order_rows_are_probabilities(run_dir):
    runs = pd.read_parquet(run_dir / "runs.parquet")
    codes = list(load_scenario("asean-2024").codes)
    fig = plotting.adoption_order(runs, codes)
    matrix = np.asarray(fig.axes[0].get_images()[0].get_array())
    assert matrix.shape == (10, 10)
    np.testing.assert_allclose(matrix.sum(axis=0)[0], 1.0)  # someone is always first
    assert matrix[0, 0] == pytest.approx(1.0)  # the entrepreneur holds it from the start


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_cli_plot_writes_every_figure(sweep_dir, run_dir, fmt, capsys):
    assert main(["plot", str(sweep_dir), "--format", fmt]) == 0
    written = [Path(line) for line in capsys.readouterr().out.split()]
    names = {p.name for p in written}
    assert {
        f"trajectories.{fmt}",
        f"tipping_years.{fmt}",
        f"adoption_order.{fmt}",
        f"main_effects.{fmt}",
        f"main_effects_institutional.{fmt}",
    } <= names
    assert any(n.startswith("heatmap_") for n in names)
    assert any(n.startswith("cascade_vs_") for n in names)
    for path in written:
        head = path.read_bytes()[:256]
        assert head.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in head or b"<?xml" in head
    assert main(["plot", str(run_dir), "--format", fmt]) == 0
    assert len(capsys.readouterr().out.split()) == 3


def test_cascade_curves_hold_each_run_at_its_final_share(threshold_dir):
    steps = pd.read_parquet(threshold_dir / "steps.parquet")
    runs = pd.read_parquet(threshold_dir / "runs.parquet")
    fig = plotting.cascade_curves(steps, tipping_share=0.5)
    ax = fig.axes[0]
    curves = [line for line in ax.get_lines() if line.get_color() == "#888888"]
    assert len(curves) == len(runs)
    last = steps.step.max()
    for line, final in zip(curves, runs.sort_values("run_id").final_adopter_share, strict=True):
        assert line.get_xdata()[-1] == last and line.get_ydata()[-1] == pytest.approx(final)
    median = next(line for line in ax.get_lines() if line.get_label() == "median of runs")
    assert median.get_ydata()[-1] == pytest.approx(runs.final_adopter_share.median())
    assert any(np.allclose(line.get_ydata(), 0.5) for line in ax.get_lines())
    assert "step" in ax.get_xlabel() and "tipping point (50%)" in _texts(fig)


def test_final_sizes_histogram_counts_every_run(threshold_dir):
    runs = pd.read_parquet(threshold_dir / "runs.parquet")
    fig = plotting.final_sizes(runs, tipping_share=0.5)
    ax = fig.axes[0]
    assert sum(p.get_height() for p in ax.patches) == len(runs)
    k = int(runs.cascade_reached.sum())
    assert f"({k} of {len(runs)} runs)" in _texts(fig)
    assert ax.get_xlim() == (0.0, 1.0) and "final size" in ax.get_xlabel()


def test_cli_plot_draws_a_threshold_folder(threshold_dir, capsys):
    assert main(["plot", str(threshold_dir)]) == 0
    written = [Path(line) for line in capsys.readouterr().out.split()]
    assert [p.name for p in written] == ["cascade_curves.png", "final_sizes.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)


def test_cli_plot_of_a_folder_without_results_is_a_usage_error(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    assert "no results here" in capsys.readouterr().err


THRESHOLD_SWEEP = {
    "name": "window",
    "scenario": "scenarios/threshold/watts-2002.yaml",
    "overrides": {"network.n": 500, "tipping_share": 0.1},
    "seed": 4,
    "replicates": 12,
    "uncertainties": {
        "design": "grid",
        "parameters": {
            "mean_degree": {"key": "network.mean_degree", "values": [1.0, 3.0, 8.0]},
            "threshold": {"key": "threshold.value", "values": [0.1, 0.18, 0.26]},
        },
    },
}


@pytest.fixture(scope="module")
def threshold_sweep_dir(tmp_path_factory) -> Path:
    from .conftest import ROOT

    out = tmp_path_factory.mktemp("plots") / "window"
    run_sweep(parse_sweep(THRESHOLD_SWEEP, base_dir=ROOT), out, workers=1)
    return out


def test_cli_plot_of_a_threshold_sweep_draws_what_applies(threshold_sweep_dir, capsys):
    assert main(["plot", str(threshold_sweep_dir)]) == 0
    names = [Path(line).name for line in capsys.readouterr().out.split()]
    # cascade_vs_<the parameter with the largest main effect>: with these 108 runs the two
    # move P(cascade) equally (2/3 each), and the ranking lists mean_degree first
    assert names == ["final_sizes.png", "main_effects.png", "cascade_vs_mean_degree.png",
                     "cascade_window.png"]
    assert all((threshold_sweep_dir / "figures" / n).read_bytes().startswith(b"\x89PNG")
               for n in names)


def test_cascade_window_cells_are_the_cascade_shares(threshold_sweep_dir):
    runs = pd.read_parquet(threshold_sweep_dir / "runs.parquet")
    fig = plotting.cascade_window(runs, cascade_share=0.1)
    left, right = fig.axes[0], fig.axes[1]
    frequency = np.ma.filled(left.collections[0].get_array(), np.nan).reshape(3, 3)
    expected = runs.pivot_table(index="threshold", columns="mean_degree",
                                values="cascade_reached", aggfunc="mean")
    np.testing.assert_allclose(frequency, expected.to_numpy(dtype=float))
    size = np.ma.filled(right.collections[0].get_array(), np.nan).reshape(3, 3)
    cascades = runs[runs.cascade_reached].pivot_table(
        index="threshold", columns="mean_degree", values="final_adopter_share", aggfunc="mean")
    cascades = cascades.reindex(index=expected.index, columns=expected.columns)
    np.testing.assert_allclose(size, cascades.to_numpy(dtype=float))
    assert "threshold" in left.get_ylabel() and "mean degree z" in left.get_xlabel()
    assert "over 10% adopt" in _texts(fig) and "cascade condition" in _texts(fig)


def test_watts_cascade_condition_bounds_the_window():
    """The zero crossings for phi = 0.18 (Watts 2002: about 1 < z < 5.8), and none at 0.26."""
    from scipy.optimize import brentq

    from normsim.analysis.threshold import cascade_condition

    def at(z: float) -> float:
        return float(cascade_condition(z, 0.18))

    assert brentq(at, 0.5, 2.0) == pytest.approx(1.02, abs=0.01)
    assert brentq(at, 3.0, 9.0) == pytest.approx(5.76, abs=0.01)
    z = np.linspace(0.5, 10, 50)
    assert (cascade_condition(z, 0.26) < 0).all()  # vulnerable only at k <= 3: no window


def test_the_watts_window_sweep_file_runs_and_plots(tmp_path, capsys):
    from normsim.experiments.sweepfile import load_sweep

    sweep = load_sweep("watts-window")
    params = {p.name: p for p in sweep.uncertainties.parameters}
    assert set(params) == {"mean_degree", "threshold"}
    assert sweep.n_points == 19 * 17 and sweep.replicates == 100
    assert sweep.base.data["network"]["n"] == 10_000
    out = tmp_path / "ww"
    assert main(["sweep", "watts-window", "--replicates", "1", "--quiet", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["plot", str(out)]) == 0
    assert "cascade_window.png" in capsys.readouterr().out
