"""Runs under a posterior: draws, run --posterior, sweep --posterior, normsim figures.

Most tests use a calibration folder written here (a metadata.json naming the fitted keys and
a posterior.parquet of weighted particles), so they need neither pyabc nor a calibration run;
the figures test calibrates for real, on a tiny budget.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from normsim.cli import main
from normsim.experiments import executors
from normsim.experiments.posterior import (
    PosteriorError,
    load_posterior,
    posterior_draws,
    run_posterior,
    spread,
)
from normsim.experiments.sweepfile import load_sweep
from normsim.scenario import load_scenario

from .conftest import ROOT

PRIORS = [
    {"name": "resistance", "key": "dynamics.resistance", "kind": "uniform", "a": 0.075,
     "b": 0.3, "low": 0.075, "high": 0.3, "doc": ""},
    {"name": "sgp_support_2002", "key": "states.SGP.support", "kind": "uniform", "a": 0.0,
     "b": 0.15, "low": 0.0, "high": 0.15, "doc": ""},
]


def write_calibration(folder: Path, seed: int = 0, particles: int = 12,
                      zero_first: bool = True) -> Path:
    """A calibration folder as normsim calibrate leaves it (the files a posterior needs)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    post = pd.DataFrame({"resistance": rng.uniform(0.1, 0.25, particles),
                         "sgp_support_2002": rng.uniform(0.0, 0.15, particles),
                         "weight": rng.uniform(0.5, 1.5, particles)})
    if zero_first:
        post.loc[0, "weight"] = 0.0  # never drawn
    post.to_parquet(folder / "posterior.parquet", index=False)
    meta = {"calibration": {"name": "fake-history", "priors": PRIORS},
            "hashes": {"combined": f"{seed:064x}"}}
    (folder / "metadata.json").write_text(json.dumps(meta))
    return folder


@pytest.fixture(scope="module")
def calibration(tmp_path_factory) -> Path:
    return write_calibration(tmp_path_factory.mktemp("posterior") / "cal")


SWEEP = {
    "name": "tiny-posterior",
    "scenario": "asean-2024",
    "overrides": {"end_year": 2030},
    "seed": 5,
    "replicates": 5,
    "levers": {"parameters": {
        "framing": {"lever": "framing", "values": ["standard", "localized"]},
        "co_entrepreneur": {"lever": "co_entrepreneur", "values": [None, "MYS"]},
    }},
    "uncertainties": {"parameters": {
        "crisis_year": {"lever": "crisis_year", "values": [None, 2027]},
    }},
}


def write_sweep(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# --------------------------------------------------------------------------- the draws


def test_a_folder_that_holds_no_posterior_is_one_line(tmp_path, capsys):
    cases = {"no such folder": tmp_path / "none"}
    empty = tmp_path / "empty"
    empty.mkdir()
    cases["metadata.json and posterior.parquet missing"] = empty
    other = write_calibration(tmp_path / "other")
    (other / "metadata.json").write_text(json.dumps({"kind": "sweep"}))
    cases["not a calibration's"] = other
    column = write_calibration(tmp_path / "column")
    pd.read_parquet(column / "posterior.parquet").drop(columns="resistance").to_parquet(
        column / "posterior.parquet")
    cases["lacks the column(s) resistance"] = column
    weights = write_calibration(tmp_path / "weights")
    frame = pd.read_parquet(weights / "posterior.parquet").assign(weight=0.0)
    frame.to_parquet(weights / "posterior.parquet")
    cases["no particles with positive, finite weights"] = weights
    for needle, folder in cases.items():
        with pytest.raises(PosteriorError, match=re.escape(needle)):
            load_posterior(folder)
        assert main(["run", "asean-2024", "--posterior", str(folder), "-n", "4",
                     "--draws", "2"]) == 2
        err = capsys.readouterr().err
        assert needle in err and len(err.strip().splitlines()) == 1, err


def test_draws_are_weighted_seeded_and_identified(calibration, tmp_path):
    post = load_posterior(calibration)
    a, b = post.draw(200, 3), post.draw(200, 3)
    assert a == b and a.digest == b.digest
    assert 0 not in a.particles  # weight 0
    assert post.draw(200, 4).particles != a.particles
    table = a.table()
    assert list(table.columns) == ["draw_id", "particle", "resistance", "sgp_support_2002"]
    np.testing.assert_array_equal(
        table["resistance"], post.particles["resistance"].to_numpy()[table["particle"]])
    moved = write_calibration(tmp_path / "moved")  # the same posterior elsewhere
    assert load_posterior(moved).draw(200, 3).describe() == a.describe()
    other = write_calibration(tmp_path / "other", seed=1)
    assert load_posterior(other).draw(200, 3).digest != a.digest
    assert spread(7, 3) == [3, 2, 2] and spread(2, 4) == [1, 1, 0, 0]


def test_run_posterior_applies_each_draw_and_records_it(calibration, tmp_path):
    scenario = load_scenario("asean-2024", {"end_year": 2028})
    draws = posterior_draws(calibration, 4, 9, scenario)
    results = run_posterior(scenario, draws, 3, 9, agents=True)
    runs = results.runs
    assert len(runs) == 12 and list(runs["run_id"]) == list(range(12))
    assert list(runs["draw_id"]) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    for d in range(4):
        rows = runs[runs["draw_id"] == d]
        assert (rows["resistance"] == draws.values[d][0]).all()
    assert set(results.steps["draw_id"]) == set(results.agents["draw_id"]) == set(range(4))
    meta = results.metadata
    assert meta["master_seed"] == 9 and meta["scenario_hash"] == scenario.digest
    assert meta["posterior"]["draws"] == 4 and meta["posterior"]["runs_per_draw"] == 3
    assert meta["posterior"]["fitted"] == {"resistance": "dynamics.resistance",
                                           "sgp_support_2002": "states.SGP.support"}
    # the CLI runs the same draws and the same runs
    out = tmp_path / "run"
    assert main(["run", "asean-2024", "--steps", "4", "--posterior", str(calibration),
                 "--draws", "4", "-n", "12", "--seed", "9", "--out", str(out), "-q"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "runs.parquet"), runs,
                                  check_dtype=False)
    # a scenario that cannot take the fitted keys: refused, one line naming them
    with pytest.raises(PosteriorError, match=re.escape("states.SGP.support")):
        posterior_draws(calibration, 4, 9, load_scenario("examples/un-security-council"))


# --------------------------------------------------------------------------- sweeps


@pytest.fixture(scope="module")
def posterior_sweep(calibration, tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sweep")
    path = write_sweep(folder / "tiny.yaml", SWEEP)
    out = folder / "serial"
    assert main(["sweep", str(path), "--posterior", str(calibration), "--draws", "3",
                 "--out", str(out), "--workers", "1", "-q"]) == 0
    return path, out


def test_sweep_spreads_each_points_replicates_over_the_same_draws(posterior_sweep,
                                                                   calibration, capsys):
    path, out = posterior_sweep
    runs = pd.read_parquet(out / "runs.parquet")
    steps = pd.read_parquet(out / "steps.parquet")
    meta = json.loads((out / "metadata.json").read_text())
    assert len(runs) == 8 * 5
    assert (runs["draw_id"] == runs["replicate"] % 3).all()  # the same draws at every point
    draws = meta["posterior"]["draws_table"]
    for d in range(3):
        rows = runs[runs["draw_id"] == d]
        assert (rows["resistance"] == draws["resistance"][d]).all()
        assert (rows["sgp_support_2002"] == draws["sgp_support_2002"][d]).all()
    assert list(runs["run_id"]) == sorted(runs["run_id"])  # (point, replicate) order
    assert (steps.groupby("run_id")["draw_id"].first() == runs.set_index("run_id")["draw_id"]
            ).all()
    sweep = load_sweep(path)
    assert list(runs["seed"]) == [sweep.run_seed(p, r) for p in range(8) for r in range(5)]
    assert meta["sweep"]["posterior"]["draws"] == 3
    # a run replays from its seed on its point's scenario under its draw
    from normsim.experiments.posterior import posterior_draws as draw
    from normsim.models import get_kind

    under = sweep.with_posterior(draw(calibration, 3, sweep.seed))
    row = runs.iloc[13]
    scenario = under.point_scenario(int(row["point_id"]), int(row["replicate"]))
    kind = get_kind(scenario.kind)
    raw = kind.simulate(scenario, [int(row["seed"])])
    again, _, _ = kind.tables(scenario, raw, [int(row["seed"])], [0], [0], False)
    assert again["final_adopter_share"].iloc[0] == row["final_adopter_share"]
    # the summary says it, and the figures of a sweep folder still draw
    capsys.readouterr()
    assert main(["plot", str(out)]) == 0
    assert (out / "figures" / "main_effects.png").is_file()


def test_sweep_under_a_posterior_serial_equals_parallel(posterior_sweep, calibration,
                                                        tmp_path):
    path, serial = posterior_sweep
    out = tmp_path / "parallel"
    assert main(["sweep", str(path), "--posterior", str(calibration), "--draws", "3",
                 "--out", str(out), "--workers", "2", "--task-runs", "7", "-q"]) == 0
    for table in ("runs", "steps"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / f"{table}.parquet"),
                                      pd.read_parquet(serial / f"{table}.parquet"))


def test_sweep_posterior_is_recorded_and_a_resume_checks_it(calibration, tmp_path,
                                                            monkeypatch, capsys):
    path = write_sweep(tmp_path / "tiny.yaml", SWEEP)
    out = tmp_path / "o"
    real = executors.run_task
    calls: list = []

    def interrupted(spec):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(spec)
        return real(spec)

    base = ["sweep", str(path), "--out", str(out), "--workers", "1", "--task-runs", "5", "-q"]
    monkeypatch.setattr(executors, "run_task", interrupted)
    assert main([*base, "--posterior", str(calibration), "--draws", "3"]) == 130
    monkeypatch.setattr(executors, "run_task", real)
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["resolved"]["posterior"]["draws"] == 3
    assert Path(manifest["posterior_folder"]) == calibration.absolute()
    capsys.readouterr()
    other = write_calibration(tmp_path / "recalibrated", seed=2)
    for extra, change in ((["--posterior", str(other)], "posterior.posterior_digest"),
                          (["--posterior", str(calibration), "--draws", "2"],
                           "posterior.draws 3 -> 2")):
        assert main([*base, "--resume", *extra]) == 2
        err = capsys.readouterr().err
        assert "cannot resume" in err and change in err, err
    # the same posterior is taken from the manifest when the resume does not name it
    assert main([*base, "--resume"]) == 0
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 40 and (runs["draw_id"] == runs["replicate"] % 3).all()


def test_sweep_refuses_a_posterior_it_cannot_take(calibration, tmp_path, capsys):
    varied = {**SWEEP, "uncertainties": {"parameters": {
        "resistance_here": {"key": "dynamics.resistance", "values": [0.1, 0.2]}}}}
    cases = {
        "varies dynamics.resistance, which the calibration fits": (varied, ["--draws", "2"]),
        "--draws 6 is more than the 5 replicates per point": (SWEEP, ["--draws", "6"]),
    }
    for needle, (data, extra) in cases.items():
        path = write_sweep(tmp_path / "s.yaml", data)
        out = tmp_path / "out"
        assert main(["sweep", str(path), "--posterior", str(calibration), *extra,
                     "--out", str(out), "-q"]) == 2
        err = capsys.readouterr().err
        assert needle in err and len(err.strip().splitlines()) == 1, err
        assert not out.exists()
    assert main(["sweep", str(path), "--draws", "2", "--out", str(tmp_path / "x")]) == 2
    assert "--draws goes with --posterior" in capsys.readouterr().err


# --------------------------------------------------------------------------- figures

README_IMAGES = re.findall(r"!\[[^\]]*\]\((docs/figures/[^)\s]+)\)",
                           (ROOT / "README.md").read_text())


def test_readme_shows_the_headline_figures_and_they_are_committed():
    from normsim.plotting.posterior import FILES

    assert sorted(Path(p).name for p in README_IMAGES) == sorted(FILES.values())
    for image in README_IMAGES:
        assert (ROOT / image).is_file(), image


@pytest.fixture(scope="module")
def tiny_calibration(tmp_path_factory) -> Path:
    pytest.importorskip("pyabc")
    out = tmp_path_factory.mktemp("calibrate") / "cal"
    assert main(["calibrate", "asean-history", "--population", "20", "--generations", "1",
                 "--predictive-draws", "2", "--out", str(out)]) == 0
    return out


def test_figures_command_makes_the_readme_images(tiny_calibration, tmp_path, capsys):
    out = tmp_path / "docs" / "figures"
    argv = ["figures", "--posterior", str(tiny_calibration), "--out", str(out),
            "-n", "6", "--draws", "3", "--workers", "1", "-q"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "P(cascade by 2040)" in text and "one lever at a time" in text
    for image in README_IMAGES:
        assert (out / Path(image).name).stat().st_size > 10_000, image
    record = json.loads((out / "figures.json").read_text())
    assert set(record["files"]) == {p.name for p in out.iterdir()}
    assert record["posterior"]["draws"] == 3 and record["fan"]["runs"] == 6
    levers = pd.read_csv(out / "levers.csv")
    sweep = load_sweep("asean-levers")
    assert set(levers["lever"]) == {"baseline", *(p.name for p in sweep.levers.parameters)}
    assert levers.groupby("lever")["baseline"].sum().drop("baseline").eq(1).all()
    assert (levers.loc[~levers["baseline"], "runs"] == 6 * 3).all()  # x 3 crisis scenarios
    # committed figures are replaced by the command with --overwrite, and only they
    before = (out / "figures.json").read_text()
    assert main(argv) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    (out / "notes.md").write_text("mine")
    assert main([*argv, "--overwrite"]) == 2
    assert "notes.md, which it did not write" in capsys.readouterr().err
    assert (out / "figures.json").read_text() == before
    (out / "notes.md").unlink()
    assert main([*argv, "--overwrite", "--seed", "2"]) == 0
    assert json.loads((out / "figures.json").read_text())["fan"]["seed"] == 2
