"""Sweeps: sweep files, designs, seeds, engines, streaming, interruption and resumption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from normsim.analysis.effects import main_effects
from normsim.cli import main
from normsim.experiments import executors
from normsim.experiments.store import run_sweep
from normsim.experiments.sweepfile import load_sweep, parse_sweep
from normsim.experiments.tasks import plan_tasks
from normsim.models import get_kind
from normsim.scenario import ScenarioError
from normsim.seeds import run_seed

TINY = {
    "name": "tiny",
    "scenario": "asean-2024",
    "overrides": {"end_year": 2040},
    "seed": 7,
    "replicates": 6,
    "levers": {
        "parameters": {
            "framing": {"lever": "framing", "values": ["standard", "localized"]},
            "co_entrepreneur": {"lever": "co_entrepreneur", "values": [None, "THA"]},
        }
    },
    "uncertainties": {
        "design": {"kind": "lhs", "samples": 3},
        "parameters": {
            "resistance": {"key": "dynamics.resistance", "range": [0.05, 0.3]},
            "crisis_year": {"lever": "crisis_year", "range": [2026, 2034]},
        },
    },
}


def write_sweep(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def read_tables(directory: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for name in ("runs", "steps", "points"):
        frame = pd.read_parquet(directory / f"{name}.parquet")
        for column in ("blockers", "adoption_order"):
            if column in frame:
                frame[column] = frame[column].map(tuple)
        out[name] = frame
    return out


def assert_same_tables(a: Path, b: Path) -> None:
    left, right = read_tables(a), read_tables(b)
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], check_categorical=False)


# --------------------------------------------------------------------------- files


def test_shipped_sweeps_validate_and_keep_levers_apart_from_uncertainties():
    levers = load_sweep("asean-levers")
    assert levers.base.data["end_year"] == 2035
    assert {p.name for p in levers.levers.parameters} == {
        "framing",
        "co_entrepreneur",
        "un_push_year",
        "strategy",
        "entrepreneur_intensity",
    }
    assert [p.name for p in levers.uncertainties.parameters] == ["crisis_year"]
    assert levers.n_points == 2 * 4 * 3 * 5 * 3 * 3
    assert levers.n_points * levers.replicates >= 10_000

    sensitivity = load_sweep("asean-sensitivity")
    design = sensitivity.uncertainties.design
    assert design.kind == "sobol"
    dims = len(sensitivity.uncertainties.parameters)
    assert sensitivity.n_points == 2 * design.samples * (dims + 2)
    assert all(p.role == "uncertainty" for p in sensitivity.uncertainties.parameters)


def test_grid_is_the_full_factorial_and_points_carry_their_levers():
    data = {
        **TINY,
        "uncertainties": {
            "parameters": {"crisis_year": {"lever": "crisis_year", "values": [None, 2030]}}
        },
    }
    sweep = parse_sweep(data)
    points = sweep.points()
    assert sweep.n_points == len(points) == 2 * 2 * 2
    combos = set(
        zip(
            points.framing,
            points.co_entrepreneur.fillna("-"),
            points.crisis_year.fillna(0),
            strict=True,
        )
    )
    assert len(combos) == 8
    row = points[
        (points.framing == "localized")
        & (points.co_entrepreneur == "THA")
        & (points.crisis_year == 2030)
    ].iloc[0]
    scenario = sweep.point_scenario(int(row.point_id))
    assert scenario.data["norm"]["framing"] == "localized"
    assert set(scenario.data["entrepreneurs"]) == {"IDN", "THA"}
    assert {"type": "crisis", "year": 2030, "magnitude": 0.5} in scenario.data["events"]
    bare = sweep.point_scenario(0)
    assert set(bare.data["entrepreneurs"]) == {"IDN"} and bare.data["events"] == []


def test_latin_hypercube_puts_one_sample_in_each_stratum_and_rounds_integer_keys():
    data = {
        **TINY,
        "levers": {},
        "uncertainties": {
            "design": {"kind": "lhs", "samples": 20},
            "parameters": {
                "resistance": {"key": "dynamics.resistance", "range": [0.05, 0.3]},
                "years": {"key": "dynamics.internalization_years", "range": [5, 15]},
            },
        },
    }
    points = parse_sweep(data).points()
    strata = np.floor(points["unit_resistance"] * 20).astype(int)
    assert sorted(strata) == list(range(20))
    assert points.resistance.between(0.05, 0.3).all()
    assert points.years.dtype == "Int64" and points.years.between(5, 15).all()


def test_sobol_design_follows_saltelli_order():
    from SALib.sample import sobol

    data = {
        **TINY,
        "levers": {},
        "uncertainties": {
            "design": {"kind": "sobol", "samples": 8, "seed": 3},
            "parameters": {
                "resistance": {"key": "dynamics.resistance", "range": [0.1, 0.3]},
                "noise": {"key": "dynamics.noise", "range": [0.0, 0.05]},
            },
        },
    }
    points = parse_sweep(data).points()
    problem = {"num_vars": 2, "names": ["resistance", "noise"], "bounds": [[0, 1]] * 2}
    expected = sobol.sample(problem, 8, calc_second_order=False, scramble=True, seed=3)
    assert len(points) == 8 * (2 + 2)
    np.testing.assert_allclose(points[["unit_resistance", "unit_noise"]], expected)
    np.testing.assert_allclose(points.resistance, 0.1 + 0.2 * expected[:, 0])


BAD = {
    "name": "bad",
    "scenario": "asean-2024",
    "colour": "blue",
    "replicates": 0,
    "levers": {
        "parameters": {
            "co_entrepreneur": {"lever": "co_entrepreneur", "values": [None, "XYZ"]},
            "crisis": {"lever": "crisis_year", "values": [2020]},
            "thing": {"lever": "magic", "values": [1]},
        }
    },
    "uncertainties": {
        "design": {"kind": "sobol", "samples": 100},
        "parameters": {
            "resistance": {"key": "dynamics.resistance", "range": [0.1, 9.0]},
            "seed": {"key": "dynamics.noise", "values": [0.1]},
        },
    },
}


def test_a_bad_sweep_file_exits_2_with_one_line_per_problem_and_writes_nothing(tmp_path, capsys):
    path = write_sweep(tmp_path / "bad.yaml", BAD)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    expected = {
        "colour: unknown key",
        "replicates: 0 is out of range; allowed: an integer >= 1",
        "levers.parameters.co_entrepreneur.values[1]: unknown state code 'XYZ'",
        "levers.parameters.crisis.values[0]: 2020: events[0].year: 2020 must be after "
        "start_year (2024)",
        "levers.parameters.thing.lever: 'magic' is not allowed",
        "uncertainties.design.samples: 100 is not allowed; a Sobol' design needs a power of 2",
        "uncertainties.parameters.resistance.range[1]: 9.0: dynamics.resistance: 9.0 is out "
        "of range; allowed: a number >= 0 and <= 5",
        "uncertainties.parameters.seed: this name is a column of the result tables",
    }
    assert len(lines) == len(expected), err
    for fragment in expected:
        assert any(fragment in line for line in lines), fragment
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert "Traceback" not in err
    assert not out.exists()


def test_invalid_yaml_and_missing_files_are_one_line_errors(tmp_path, capsys):
    broken = tmp_path / "broken.yaml"
    broken.write_text("levers: [unclosed\n")
    assert main(["sweep", str(broken), "--out", str(tmp_path / "o")]) == 2
    assert main(["sweep", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "invalid YAML" in err[0] and "no such file" in err[1]


# --------------------------------------------------------------------------- seeds


def test_seeds_come_from_the_master_seed_per_point_and_replicate():
    master, points, replicates = 11, 5, 4
    tree = np.random.SeedSequence(master).spawn(points)
    for p in range(points):
        block = tree[p].spawn(1)[0]  # replicates 0..1023 of point p
        for r in range(replicates):
            expected = int(block.generate_state(1, np.uint64)[0] >> np.uint64(11)) << 10 | r
            assert run_seed(master, p, r) == expected
    seeds = {run_seed(master, p, r) for p in range(points) for r in range(replicates)}
    assert len(seeds) == points * replicates


@pytest.fixture(scope="module")
def tiny_results(tmp_path_factory) -> tuple[Path, object]:
    sweep = parse_sweep(TINY)
    out = tmp_path_factory.mktemp("tiny") / "out"
    run_sweep(sweep, out, workers=1, task_runs=10)
    return out, sweep


def test_every_row_records_its_seed_and_the_seed_replays_the_run(tiny_results):
    out, sweep = tiny_results
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == sweep.n_points * sweep.replicates
    assert list(runs[["point_id", "replicate"]].itertuples(index=False, name=None)) == [
        (p, r) for p in range(sweep.n_points) for r in range(sweep.replicates)
    ]
    assert (runs.run_id == runs.point_id * sweep.replicates + runs.replicate).all()
    for row in runs.sample(5, random_state=1).itertuples():
        assert row.seed == run_seed(sweep.seed, row.point_id, row.replicate)
        scenario = sweep.point_scenario(row.point_id)
        kind = get_kind(scenario.kind)
        arrays = kind.simulate(scenario, [int(row.seed)])
        alone, _, _ = kind.tables(scenario, arrays, [int(row.seed)], [0], [0], False)
        assert bool(alone.cascade_reached[0]) == row.cascade_reached
        assert alone.final_adopter_share[0] == row.final_adopter_share
        assert list(alone.adoption_order[0]) == list(row.adoption_order)
    steps = pd.read_parquet(out / "steps.parquet", columns=["run_id", "seed", "point_id"])
    assert steps.groupby("run_id").seed.nunique().eq(1).all()
    assert len(steps) == len(runs) * (sweep.base.steps + 1)


def test_tables_carry_the_point_parameters(tiny_results):
    out, sweep = tiny_results
    points = pd.read_parquet(out / "points.parquet")
    runs = pd.read_parquet(out / "runs.parquet")
    merged = runs.merge(points, on="point_id", suffixes=("", "_point"))
    for p in sweep.parameters:
        pd.testing.assert_series_equal(merged[p.name], merged[f"{p.name}_point"], check_names=False)
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["master_seed"] == 7 and meta["replicates"] == 6
    assert meta["sweep"]["uncertainties"]["design"]["kind"] == "lhs"
    assert meta["runs"] == len(runs) and not (out / "chunks").exists()


# --------------------------------------------------------------------------- engines


def test_results_do_not_depend_on_workers_or_task_size(tiny_results, tmp_path):
    reference, sweep = tiny_results
    run_sweep(sweep, tmp_path / "two", workers=2, task_runs=4)  # points split in tasks
    assert plan_tasks(sweep.n_points, sweep.replicates, 4)[0].items == ((0, 0, 4),)
    assert_same_tables(reference, tmp_path / "two")


def test_dask_cluster_gives_the_same_tables(tiny_results, tmp_path):
    distributed = pytest.importorskip("distributed")
    reference, sweep = tiny_results
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        report = run_sweep(
            sweep, tmp_path / "dask", scheduler=cluster.scheduler_address, task_runs=10
        )
    assert report.tasks_run == report.tasks
    assert_same_tables(reference, tmp_path / "dask")
    meta = json.loads((tmp_path / "dask" / "metadata.json").read_text())
    assert meta["execution"]["engine"] == "dask"


# --------------------------------------------------------------------------- resume

SLOW = {
    "name": "slow",
    "scenario": "asean-2024",
    "overrides": {"end_year": 2100},
    "seed": 3,
    "replicates": 5,
    "levers": {
        "parameters": {
            "framing": {"lever": "framing", "values": ["standard", "localized"]},
            "co_entrepreneur": {
                "lever": "co_entrepreneur",
                "values": [None, "MYS", "THA", "VNM", "PHL"],
            },
            "entrepreneur_intensity": {
                "lever": "entrepreneur_intensity",
                "range": [0.1, 1.0],
                "levels": 10,
            },
        }
    },
}


@pytest.fixture(scope="module")
def slow_reference(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("slow")
    path = write_sweep(folder / "slow.yaml", SLOW)
    out = folder / "reference"
    run_sweep(load_sweep(path), out, workers=1, task_runs=5)
    return path, out


def _sweep_argv(path: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "normsim", "sweep", str(path), "--out", str(out),
            "--quiet", *extra]


def _start(path: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        _sweep_argv(path, out, "--task-runs", "5", *extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _interrupt_after(process: subprocess.Popen, out: Path, chunks: int, sig: int) -> None:
    deadline = time.monotonic() + 120
    while len(list((out / "chunks").glob("runs-*.parquet"))) < chunks:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no chunks written in time"
        time.sleep(0.01)
    os.killpg(process.pid, sig)  # the whole group we started: the CLI and its workers


def _resume(path: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        _sweep_argv(path, out, "--resume", *extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_kill_9_then_resume_completes_without_losing_or_repeating_a_run(slow_reference, tmp_path):
    path, reference = slow_reference
    out = tmp_path / "killed"
    process = _start(path, out, "--workers", "1")
    _interrupt_after(process, out, 10, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    done = len(list((out / "chunks").glob("runs-*.parquet")))
    assert 10 <= done < 100 and not (out / "metadata.json").exists()
    (out / "chunks" / ".runs-0000099.parquet.tmp").write_bytes(b"half a chunk")

    finished = _resume(path, out)
    assert finished.returncode == 0, finished.stderr
    assert f"resumed: ran {100 - done} of 100 tasks" in finished.stdout
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 100 * 5
    assert not runs.duplicated(["point_id", "replicate"]).any()
    assert_same_tables(reference, out)


def test_ctrl_c_stops_cleanly_and_resume_with_two_workers_completes(slow_reference, tmp_path):
    path, reference = slow_reference
    out = tmp_path / "interrupted"
    process = _start(path, out, "--workers", "2")
    _interrupt_after(process, out, 10, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "rerun with --resume" in err and "Traceback" not in err
    assert not (out / "metadata.json").exists()

    different = _resume(path, out, "--replicates", "7")
    assert different.returncode == 2 and "holds a different sweep" in different.stderr
    fresh = subprocess.run(
        [sys.executable, "-m", "normsim", "sweep", str(path), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert fresh.returncode == 2 and "--resume" in fresh.stderr

    finished = _resume(path, out, "--workers", "2")
    assert finished.returncode == 0, finished.stderr
    assert_same_tables(reference, out)
    again = _resume(path, out)
    assert again.returncode == 0 and "already complete" in again.stdout
    assert_same_tables(reference, out)


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """State, parent PID and start time of a process, from /proc; None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[19])


def _children(pid: int) -> dict[int, tuple[int, str]]:
    """The children of a process: PID -> (start time, command line)."""
    out = {}
    for entry in Path("/proc").iterdir():
        stat = _proc_stat(int(entry.name)) if entry.name.isdigit() else None
        if stat is not None and stat[1] == pid:
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            out[int(entry.name)] = (stat[2], cmdline)
    return out


def _running(pid: int, started: int) -> bool:
    """Whether that process (not a later one with its PID) still runs; a zombie does not."""
    stat = _proc_stat(pid)
    return stat is not None and stat[2] == started and stat[0] not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="finds processes in /proc")
def test_kill_9_on_the_sweep_takes_its_workers_and_resource_tracker_with_it(tmp_path):
    path = write_sweep(tmp_path / "slow.yaml", {**SLOW, "replicates": 40})
    out = tmp_path / "orphans"
    process = _start(path, out, "--workers", "2")
    children: dict[int, tuple[int, str]] = {}
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, f"no workers in time: {children}"
            children = _children(process.pid)
            workers = [c for c, (_, cmd) in children.items() if "spawn_main" in cmd]
            trackers = [c for c, (_, cmd) in children.items() if "resource_tracker" in cmd]
            if len(workers) == 2 and trackers and any(out.glob("chunks/runs-*.parquet")):
                break
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)  # the parent only, as `kill -9 PID` does
        process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
            _running(c, s) for c, (s, _) in children.items()
        ):
            time.sleep(0.05)
        left = {c: cmd for c, (s, cmd) in children.items() if _running(c, s)}
        assert not left, f"still running 5 s after the parent's death: {left}"
    finally:
        for child, (started, _) in children.items():
            if _running(child, started):
                os.kill(child, signal.SIGKILL)
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def _sweep_main(path: Path, out: Path, *extra: str) -> int:
    """``normsim sweep`` in this process, with the arguments of :func:`_sweep_argv`."""
    argv = _sweep_argv(path, out, "--workers", "1", *extra)
    return main(argv[argv.index("sweep"):])


def _interrupted_sweep(monkeypatch, path: Path, out: Path, *extra: str, tasks: int = 2) -> None:
    """Start a sweep in this process and stop it with Ctrl-C after ``tasks`` tasks."""
    real = executors.run_task
    calls = []

    def interrupted(spec):
        if len(calls) == tasks:
            raise KeyboardInterrupt
        calls.append(spec)
        return real(spec)

    monkeypatch.setattr(executors, "run_task", interrupted)
    assert _sweep_main(path, out, *extra) == 130
    monkeypatch.setattr(executors, "run_task", real)
    assert len(list((out / "chunks").glob("runs-*.parquet"))) == tasks


def test_resume_refuses_a_sweep_file_changed_since_the_sweep_started(
    tmp_path, monkeypatch, capsys
):
    started = {**TINY, "replicates": 4}
    path = write_sweep(tmp_path / "tiny.yaml", started)
    text = path.read_text()
    out = tmp_path / "o"
    _interrupted_sweep(monkeypatch, path, out, "--task-runs", "4")
    capsys.readouterr()
    edits = {
        "replicates 4 -> 2": {**started, "replicates": 2},
        "base scenario end_year 2040 -> 2039": {**started, "overrides": {"end_year": 2039}},
        "uncertainties.design.samples 3 -> 4": {
            **started,
            "uncertainties": {**TINY["uncertainties"], "design": {"kind": "lhs", "samples": 4}},
        },
    }
    for change, edited in edits.items():
        write_sweep(path, edited)
        assert _sweep_main(path, out, "--resume") == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1, err
        assert "cannot resume: the sweep changed since it started" in err and change in err
        assert not (out / "metadata.json").exists()
        assert len(list((out / "chunks").glob("runs-*.parquet"))) == 2

    path.write_text(text)
    assert _sweep_main(path, out, "--resume") == 0
    assert len(pd.read_parquet(out / "runs.parquet")) == 12 * 4
    assert json.loads((out / "metadata.json").read_text())["sweep_text"] == text


def test_resume_refuses_options_that_differ_from_those_the_sweep_started_with(
    tmp_path, monkeypatch, capsys
):
    path = write_sweep(tmp_path / "tiny.yaml", {**TINY, "replicates": 2})
    out = tmp_path / "o"
    _interrupted_sweep(monkeypatch, path, out, "--replicates", "3", "--task-runs", "3")
    capsys.readouterr()
    for option, change in (
        ("--replicates", "replicates 3 -> 5"),
        ("--task-runs", "task_runs 3 -> 6"),
    ):
        assert _sweep_main(path, out, "--resume", option, change[-1]) == 2
        err = capsys.readouterr().err
        assert "cannot resume" in err and change in err and "--overwrite" in err
    assert _sweep_main(path, out, "--resume", "--replicates", "3") == 0  # the same: fine
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 12 * 3 and set(runs.replicate) == {0, 1, 2}


def test_metadata_records_the_text_the_data_were_made_with(tmp_path, monkeypatch):
    started = {**TINY, "replicates": 2}
    path = write_sweep(tmp_path / "tiny.yaml", started)
    text = path.read_text()
    out = tmp_path / "o"
    _interrupted_sweep(monkeypatch, path, out, "--task-runs", "2")
    write_sweep(path, {**started, "description": "edited while the sweep was stopped"})
    assert _sweep_main(path, out, "--resume") == 0  # the same runs: the resume goes on
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["sweep_text"] == text and meta["sweep_description"] == ""


# --------------------------------------------------------------------------- reporting


def test_progress_bar_shows_an_eta(tmp_path, capsys):
    sweep = parse_sweep({**TINY, "replicates": 2})
    run_sweep(sweep, tmp_path / "p", workers=1, task_runs=2, progress=True)
    err = capsys.readouterr().err
    assert "run/s" in err and "<" in err and f"{sweep.n_points * 2}/{sweep.n_points * 2}" in err


def test_main_effects_are_marginal_probabilities(tiny_results):
    out, _ = tiny_results
    runs = pd.read_parquet(out / "runs.parquet")
    effects = main_effects(runs, ["framing", "co_entrepreneur"])
    for row in effects.itertuples():
        column = runs[row.parameter].astype(object).where(runs[row.parameter].notna(), "none")
        expected = runs.cascade_reached[column == row.value].mean()
        assert row.p == pytest.approx(expected)
    framing = effects[effects.parameter == "framing"]
    assert framing.spread.iloc[0] == pytest.approx(framing.p.max() - framing.p.min())


def test_cli_sweep_prints_the_summary_and_writes_the_tables(tmp_path, capsys):
    path = write_sweep(tmp_path / "tiny.yaml", {**TINY, "replicates": 3})
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "12 points x 3 replicates = 36 runs" in out
    assert "Main effects on P(cascade)" in out and "framing (lever)" in out
    assert "crisis_year (uncertainty)" in out
    assert {p.name for p in (tmp_path / "o").iterdir()} == {
        "runs.parquet",
        "steps.parquet",
        "points.parquet",
        "metadata.json",
        "sweep.json",
    }


def test_samples_option_resizes_the_design_and_resume_remembers_it(tmp_path, capsys):
    sobol = {
        **TINY,
        "replicates": 1,
        "uncertainties": {
            "design": {"kind": "sobol", "samples": 64},
            "parameters": {"resistance": {"key": "dynamics.resistance", "range": [0.1, 0.3]}},
        },
    }
    path = write_sweep(tmp_path / "sobol.yaml", sobol)
    out = tmp_path / "o"
    assert main(["sweep", str(path), "--samples", "4", "--out", str(out), "-q"]) == 0
    assert len(pd.read_parquet(out / "points.parquet")) == 4 * 4 * (1 + 2)
    assert main(["sweep", str(path), "--out", str(out), "--resume"]) == 0
    assert "already complete" in capsys.readouterr().out
    assert main(["sweep", str(path), "--samples", "6", "--out", str(tmp_path / "x")]) == 2
    assert "power of 2" in capsys.readouterr().err and not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- other kinds


THRESHOLD_SWEEP = {
    "name": "tiny-threshold",
    "scenario": "threshold/watts-2002",
    "overrides": {"network.n": 400, "tipping_share": 0.3},
    "seed": 3,
    "replicates": 3,
    "uncertainties": {
        "parameters": {"threshold.value": {"values": [0.1, 0.18, 0.3]}},
    },
}


def test_a_threshold_scenario_sweeps_through_the_same_path(tmp_path, capsys):
    path = write_sweep(tmp_path / "threshold.yaml", THRESHOLD_SWEEP)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "3 points x 3 replicates = 9 runs" in out
    assert "P(cascade within 1,000 steps)" in out and "institutional" not in out
    assert "threshold.value (uncertainty)" in out
    runs = pd.read_parquet(tmp_path / "o" / "runs.parquet")
    steps = pd.read_parquet(tmp_path / "o" / "steps.parquet")
    assert list(runs[["point_id", "replicate"]].itertuples(index=False, name=None)) == [
        (p, r) for p in range(3) for r in range(3)
    ]
    assert list(runs.columns[:5]) == ["point_id", "run_id", "replicate", "seed", "threshold.value"]
    assert "steps_run" in runs.columns
    assert steps.groupby("run_id").step.apply(lambda s: s.is_monotonic_increasing).all()
    sweep = parse_sweep(THRESHOLD_SWEEP)
    for row in runs.itertuples():  # a run replays alone through its kind
        assert row.seed == run_seed(sweep.seed, row.point_id, row.replicate)
    meta = json.loads((tmp_path / "o" / "metadata.json").read_text())
    assert meta["steps"] == 1000 and meta["tipping_share"] == 0.3


def test_a_threshold_sweep_refuses_levers_it_does_not_have():
    with pytest.raises(ScenarioError, match="the threshold kind has no levers"):
        parse_sweep({**THRESHOLD_SWEEP,
                     "levers": {"parameters": {"f": {"lever": "framing", "values": ["x"]}}}})
