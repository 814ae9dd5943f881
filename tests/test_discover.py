"""Scenario discovery (``normsim discover``, PRIM from the EMA workbench).

Synthetic sweep folders whose true box is known (built table by table, as a sweep writes
them), the categorical case, the one-line refusals, the files written, and the cascade
window of a real (reduced) Watts sweep.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

from normsim.analysis.discovery import (
    DiscoveryError,
    describe,
    discover,
    read_discovery,
)
from normsim.cli import main

pytest.importorskip("ema_workbench")

TOLERANCE = 0.05
"""Largest distance of a recovered limit from the true one, on [0, 1]-ranged inputs."""


def _parameter(name, role, values=None, low=None, high=None, kind="float"):
    out = {"name": name, "role": role, "key": f"x.{name}", "kind": kind}
    if values is not None:
        out["values"] = values
    else:
        out.update(range=[low, high], integer=False)
    return out


def write_sweep(folder, points, outcome, parameters, replicates=2, extra=None):
    """A sweep folder: points.parquet, runs.parquet (outcome per replicate), metadata.json."""
    folder.mkdir(parents=True)
    points = points.reset_index(drop=True)
    points.insert(0, "point_id", np.arange(len(points)))
    points.to_parquet(folder / "points.parquet", index=False)
    runs = points.loc[points.index.repeat(replicates)].reset_index(drop=True)
    runs.insert(1, "replicate", np.tile(np.arange(replicates), len(points)))
    runs["cascade_reached"] = np.repeat(np.asarray(outcome, dtype=bool), replicates)
    runs["tipping_step"] = 3
    for name, values in (extra or {}).items():
        runs[name] = np.repeat(np.asarray(values), replicates)
    runs.to_parquet(folder / "runs.parquet", index=False)
    blocks = {block: {"design": {"kind": "lhs"},
                      "parameters": [p for p in parameters if p["role"] == role]}
              for block, role in (("levers", "lever"), ("uncertainties", "uncertainty"))}
    meta = {"kind": "sweep", "sweep_name": "synthetic", "steps": 10, "points": len(points),
            "replicates": replicates, "sweep": {"name": "synthetic", **blocks}}
    (folder / "metadata.json").write_text(json.dumps(meta))
    (folder / "sweep.json").write_text("{}")
    return folder


@pytest.fixture
def numeric_sweep(tmp_path):
    """x1, x2, x3 uniform on [0, 1] (1,000 points); a cascade when 0.3 <= x1 <= 0.7, x2 > 0.5."""
    rng = np.random.default_rng(13)
    points = pd.DataFrame(rng.random((1000, 3)), columns=["x1", "x2", "x3"])
    inside = points.x1.between(0.3, 0.7) & (points.x2 > 0.5)
    parameters = [_parameter(n, "uncertainty", low=0.0, high=1.0) for n in points]
    return write_sweep(tmp_path / "numeric", points, inside, parameters)


def test_the_known_box_is_recovered_within_the_tolerance(numeric_sweep):
    found = discover(numeric_sweep)
    limits = found.limits.set_index("parameter")
    assert set(limits.index) == {"x1", "x2"}  # x3 is noise: left unrestricted
    assert abs(limits.loc["x1", "low"] - 0.3) <= TOLERANCE
    assert abs(limits.loc["x1", "high"] - 0.7) <= TOLERANCE
    assert abs(limits.loc["x2", "low"] - 0.5) <= TOLERANCE
    assert not limits.loc["x2", "high_restricted"]
    box = found.trajectory.loc[found.chosen]
    assert box.coverage >= 0.8 and box.density >= 0.9
    assert (limits.qp_low.dropna() < 1e-6).all()
    text = " ".join(describe(found.to_json()))
    assert "x1 is between" in text and "x2 is at least" in text and "coverage" in text


def test_categorical_levers_are_kept_as_value_sets(tmp_path):
    rng = np.random.default_rng(7)
    n = 600
    points = pd.DataFrame({
        "strategy": rng.choice(["all", "receptive", "central", "coalition"], n),
        "co_entrepreneur": rng.choice(np.array([None, "MYS", "THA"], dtype=object), n),
        "noise": rng.random(n),
    })
    outcome = points.strategy.isin(["central", "coalition"]) & points.co_entrepreneur.isna()
    parameters = [
        _parameter("strategy", "lever", ["all", "receptive", "central", "coalition"], kind="str"),
        _parameter("co_entrepreneur", "lever", [None, "MYS", "THA"], kind="str"),
        _parameter("noise", "uncertainty", low=0.0, high=1.0),
    ]
    folder = write_sweep(tmp_path / "levers", points, outcome, parameters)
    found = discover(folder, min_coverage=0.9)
    limits = found.limits.set_index("parameter")
    assert limits.loc["strategy", "values"] == "central|coalition"
    assert limits.loc["co_entrepreneur", "values"] == "none"
    assert "noise" not in limits.index
    sentences = describe(found.to_json())
    assert "strategy is central or coalition" in sentences[0]
    assert "co_entrepreneur is none" in sentences[0]


def test_per_run_takes_every_run_as_a_case(numeric_sweep):
    found = discover(numeric_sweep, per="run")
    assert found.cases == 2000 and found.per == "run"


def test_where_fixes_a_parameter(tmp_path):
    points = pd.DataFrame({"a": np.repeat([0.1, 0.2], 50), "b": np.tile(np.linspace(0, 1, 50), 2)})
    parameters = [_parameter("a", "uncertainty", [0.1, 0.2]),
                  _parameter("b", "uncertainty", low=0.0, high=1.0)]
    folder = write_sweep(tmp_path / "grid", points, (points.b < 0.4) & (points.a == 0.1),
                         parameters)
    found = discover(folder, where={"a": "0.1"})
    assert found.cases == 50 and list(found.limits.parameter) == ["b"]
    with pytest.raises(DiscoveryError, match=r"its values are: 0\.1, 0\.2"):
        discover(folder, where={"a": "0.3"})


def _one_line_error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err
    return err


def test_refusals_are_one_line_with_exit_2(numeric_sweep, tmp_path, capsys):
    folder = str(numeric_sweep)
    assert "no point has that value" in _one_line_error(
        capsys, ["discover", folder, "--where", "x1=0.5"])
    assert "expected NAME=VALUE" in _one_line_error(capsys, ["discover", folder, "--where", "x1"])
    none = write_sweep(tmp_path / "none", pd.DataFrame({"x": np.linspace(0, 1, 20)}),
                       np.zeros(20), [_parameter("x", "uncertainty", low=0.0, high=1.0)])
    err = _one_line_error(capsys, ["discover", str(none)])
    assert "no point of the 20 has P(cascade_reached) >= 0.5" in err
    every = write_sweep(tmp_path / "every", pd.DataFrame({"x": np.linspace(0, 1, 20)}),
                        np.ones(20), [_parameter("x", "uncertainty", low=0.0, high=1.0)])
    assert "every point" in _one_line_error(capsys, ["discover", str(every)])
    err = _one_line_error(capsys, ["discover", folder, "--outcome", "tipping_step"])
    assert "the boolean columns are: cascade_reached" in err
    for bad in ("0", "1.5", "nan"):
        assert "out of range" in _one_line_error(capsys, ["discover", folder,
                                                          "--threshold", bad])
    assert "out of range" in _one_line_error(capsys, ["discover", folder,
                                                      "--min-coverage", "0"])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "not a complete sweep" in _one_line_error(capsys, ["discover", str(empty)])
    run = tmp_path / "run"
    run.mkdir()
    (run / "metadata.json").write_text(json.dumps({"kind": "run"}))
    assert "not of a sweep" in _one_line_error(capsys, ["discover", str(run)])


def test_missing_ema_workbench_is_a_one_line_hint(numeric_sweep, monkeypatch, capsys):
    for name in ("ema_workbench", "ema_workbench.analysis", "ema_workbench.analysis.prim"):
        monkeypatch.setitem(sys.modules, name, None)
    err = _one_line_error(capsys, ["discover", str(numeric_sweep)])
    assert "pip install 'normsim[discover]'" in err


def test_the_cli_writes_csv_json_and_figures(numeric_sweep, capsys):
    assert main(["discover", str(numeric_sweep)]) == 0
    out = capsys.readouterr().out
    assert "Peeling trajectory" in out and "<- chosen" in out and "x1" in out
    folder = numeric_sweep / "discovery"
    for name in ("trajectory.csv", "box.csv", "discovery.json", "tradeoff.png",
                 "box_limits.png"):
        assert (folder / name).is_file(), name
    record = read_discovery(folder)
    assert record["sentences"] == describe(record)
    trajectory = pd.read_csv(folder / "trajectory.csv")
    assert trajectory.chosen.sum() == 1 and trajectory.coverage.iloc[0] == 1.0
    assert set(pd.read_csv(folder / "box.csv").parameter) == {"x1", "x2"}
    # a second discovery into the same folder is refused, or replaces it as a whole
    assert main(["discover", str(numeric_sweep)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["discover", str(numeric_sweep), "--overwrite", "--threshold", "0.9"]) == 0
    assert read_discovery(folder)["threshold"] == 0.9


@pytest.mark.slow
def test_the_watts_window_is_recovered_and_the_sweep_folder_stays_intact(tmp_path, capsys):
    """A reduced watts-window sweep (19 x 17 points x 10 replicates, N = 10^4): ~10 s.

    Watts (2002): at phi = 0.18 global cascades for z from about 1 to 5.8 (N -> infinity),
    the window narrowing as phi rises and empty above phi ~ 0.25. A box is a rectangle, so
    over the whole window it spans the low thresholds; at phi = 0.18 it gives the edges.
    """
    from normsim.experiments.store import is_complete, run_sweep
    from normsim.experiments.sweepfile import load_sweep
    from normsim.results import read_results

    sweep = load_sweep("watts-window").with_replicates(10)
    folder = tmp_path / "ww"
    run_sweep(sweep, folder, workers=1)
    assert main(["discover", str(folder)]) == 0
    limits = pd.read_csv(folder / "discovery" / "box.csv").set_index("parameter")
    assert 1.5 <= limits.loc["mean_degree", "low"] <= 2.0  # z = 1: no giant component
    assert 0.19 <= limits.loc["threshold", "high"] <= 0.25
    assert not limits.loc["threshold", "low_restricted"]
    assert main(["discover", str(folder), "--where", "threshold=0.18",
                 "--out", str(tmp_path / "phi018")]) == 0
    edge = pd.read_csv(tmp_path / "phi018" / "box.csv").set_index("parameter")
    assert 1.5 <= edge.loc["mean_degree", "low"] <= 2.0
    assert 4.5 <= edge.loc["mean_degree", "high"] <= 6.0  # Watts: about 5.8
    # the discovery subfolder leaves the sweep folder's own checks alone
    assert is_complete(folder)
    assert len(read_results(folder).runs) == sweep.n_points * 10
    assert run_sweep(sweep, folder, workers=1, resume=True).tasks_run == 0
    capsys.readouterr()
