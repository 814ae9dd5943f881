"""normsim calibrate (ABC-SMC through pyabc) and normsim run --posterior."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pyabc")

from normsim.cli import main
from normsim.experiments.calibration import calibrate
from normsim.experiments.calibrationfile import load_calibration

TINY = """\
scenario: asean-2003
targets: asean-history
parameters:
  resistance: {key: dynamics.resistance, uniform: [0.075, 0.3]}
  sgp: {key: states.SGP.support, normal: [0.05, 0.05]}
population: 20
stop: {generations: 2}
seed: 1
"""


def _write(tmp_path: Path, text: str, name: str = "cal.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_file_one_line_per_problem(tmp_path, capsys):
    bad = _write(tmp_path, """\
scenario: asean-2003
targets: asean-history
parameters:
  a: {key: states.SGP.support, uniform: [0.0, 1.5]}
  b: {key: dynamics.no_such_weight, uniform: [0, 1]}
  c: {key: dynamics.noise, normal: [0.03, -1]}
population: 1
bogus: 3
""")
    assert main(["calibrate", str(bad), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    text = "\n".join(lines)
    for needle in ("bogus", "population", "parameters.a", "parameters.b", "parameters.c",
                   "stop"):
        assert needle in text, needle
    assert len(lines) >= 6
    assert not (tmp_path / "out").exists()


def test_shipped_calibration_is_valid():
    cal = load_calibration("asean-history")
    assert len(cal.priors) >= 8
    assert cal.population == 1000
    assert {p.id for p in cal.targets} >= {"proposal-2003-fails", "no-force-by-2023"}


def test_tiny_calibration_end_to_end(tmp_path, capsys):
    cal = _write(tmp_path, TINY)
    out = tmp_path / "out"
    assert main(["calibrate", str(cal), "--out", str(out), "--workers", "1",
                 "--predictive-draws", "10"]) == 0
    captured = capsys.readouterr()
    assert "generation 0: epsilon" in captured.err and "generation 1:" in captured.err
    for name in ("history.db", "posterior.parquet", "diagnostics.csv", "predictive.csv",
                 "metadata.json", "figures/marginals.png", "figures/pairs.png",
                 "figures/predictive.png"):
        assert (out / name).is_file(), name
    post = pd.read_parquet(out / "posterior.parquet")
    assert list(post.columns) == ["resistance", "sgp", "weight"] and len(post) == 20
    diag = pd.read_csv(out / "diagnostics.csv")
    assert list(diag["generation"]) == [0, 1]
    assert {"epsilon", "acceptance_rate", "ess", "particles", "simulations"} <= set(diag)
    meta = json.loads((out / "metadata.json").read_text())
    assert set(meta["hashes"]) >= {"calibration_file", "patterns_file", "base_scenario"}
    assert meta["seed"] == 1 and meta["reproducible"]
    # the same file into a folder that holds results: refused without --overwrite
    assert main(["calibrate", str(cal), "--out", str(out)]) == 2

    # run --posterior: draw_id recorded, the credible interval printed
    runs_out = tmp_path / "runs"
    assert main(["run", "asean-2024", "--posterior", str(out), "--draws", "5", "-n", "20",
                 "--out", str(runs_out)]) == 0
    text = capsys.readouterr().out
    assert "credible interval" in text and "Var[E|theta]" in text
    runs = pd.read_parquet(runs_out / "runs.parquet")
    assert runs["draw_id"].nunique() == 5 and len(runs) == 20
    assert {"resistance", "sgp"} <= set(runs.columns)
    # a scenario without the fitted keys is refused
    assert main(["run", "threshold/watts-2002", "--posterior", str(out), "-n", "5"]) == 2
    assert "fitted parameter" in capsys.readouterr().err


def test_resume_continues_and_refuses_a_changed_file(tmp_path, capsys):
    path = _write(tmp_path, TINY)
    cal = load_calibration(path)
    out = tmp_path / "out"

    def interrupt(line: str) -> None:
        raise KeyboardInterrupt  # killed after the first generation is stored

    with pytest.raises(KeyboardInterrupt):
        calibrate(cal, out, log=interrupt, predictive_draws=5)
    assert (out / "history.db").is_file() and not (out / "metadata.json").exists()
    assert main(["calibrate", str(path), "--out", str(out), "--resume",
                 "--predictive-draws", "5"]) == 0
    err = capsys.readouterr().err
    assert "generation 1:" in err and "generation 0:" not in err
    diag = pd.read_csv(out / "diagnostics.csv")
    assert list(diag["generation"]) == [0, 1]
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["resumed"] and meta["generations_this_session"] == 1

    changed = _write(tmp_path, TINY.replace("seed: 1", "seed: 2"), "changed.yaml")
    assert main(["calibrate", str(changed), "--out", str(out), "--resume"]) == 2
    assert "another calibration" in capsys.readouterr().err
    assert main(["calibrate", str(path), "--out", str(tmp_path / "none"), "--resume"]) == 2


def test_one_worker_replays_the_same_posterior(tmp_path):
    cal = load_calibration(_write(tmp_path, TINY.replace("generations: 2", "generations: 1")))
    a = calibrate(cal, tmp_path / "a", predictive_draws=2, log=lambda line: None)
    b = calibrate(cal, tmp_path / "b", predictive_draws=2, log=lambda line: None)
    pd.testing.assert_frame_equal(a["posterior"], b["posterior"])


def test_dask_scheduler(tmp_path):
    distributed = pytest.importorskip("distributed")
    cal = load_calibration(_write(tmp_path, TINY.replace("generations: 2", "generations: 1")))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        result = calibrate(cal, tmp_path / "out", scheduler=cluster.scheduler_address,
                           predictive_draws=2, log=lambda line: None)
    assert len(result["posterior"]) == 20 and not result["meta"]["reproducible"]


def test_overwrite_keeps_the_old_calibration_until_the_new_one_is_complete(tmp_path):
    first = load_calibration(_write(tmp_path, TINY.replace("generations: 2", "generations: 1")))
    out = tmp_path / "out"
    calibrate(first, out, predictive_draws=2, log=lambda line: None)
    old = (out / "metadata.json").read_text()
    second = load_calibration(_write(tmp_path, TINY.replace("seed: 1", "seed: 3"), "b.yaml"))

    def interrupt(line: str) -> None:
        raise KeyboardInterrupt  # killed after the first generation of the overwrite

    with pytest.raises(KeyboardInterrupt):
        calibrate(second, out, overwrite=True, log=interrupt, predictive_draws=2)
    assert (out / "metadata.json").read_text() == old, "the old set is still readable"
    assert (out / ".pending" / "history.db").is_file()
    calibrate(second, out, resume=True, predictive_draws=2, log=lambda line: None)
    assert not (out / ".pending").exists()
    assert json.loads((out / "metadata.json").read_text())["seed"] == 3
    assert list(pd.read_csv(out / "diagnostics.csv")["generation"]) == [0, 1]
