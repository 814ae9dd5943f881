"""The normsim command: summary, result files, reproducibility and bad input."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from normsim.cli import main

from .conftest import SCENARIOS

RUNS_COLUMNS = ["run_id", "replicate", "seed", "cascade_reached", "tipping_step",
                "tipping_year", "peak_adopter_share", "final_adopter_share",
                "institutional_adoption", "adoption_year", "blockers"]


def test_run_prints_the_summary_and_writes_the_tables(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(SCENARIOS / "asean-2024.yaml"), "-n", "200", "--seed", "1",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for phrase in ("P(cascade by 2040)", "95% CI", "tipping year", "P(institutional adoption",
                   "Blockers", "Adoption order", "master seed 1"):
        assert phrase in text
    assert sorted(p.name for p in out.iterdir()) == [
        "agents.parquet", "metadata.json", "runs.parquet", "steps.parquet"]
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs.columns[: len(RUNS_COLUMNS)]) == RUNS_COLUMNS
    assert len(runs) == 200 and runs["seed"].is_unique
    steps = pd.read_parquet(out / "steps.parquet")
    assert {"run_id", "step", "year", "adopter_share", "n_resistant", "n_adopter",
            "n_internalized", "regional_stage", "norm_non_interference", "seed"} <= set(steps)
    assert len(steps) == 200 * 17
    agents = pd.read_parquet(out / "agents.parquet")
    assert {"run_id", "step", "state", "support", "stage", "norm_sovereignty", "seed"} <= set(
        agents)
    assert len(agents) == 200 * 17 * 10
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["master_seed"] == 1 and meta["replicates"] == 200
    assert meta["mesa_version"].startswith("3.") and len(meta["scenario_hash"]) == 64
    assert "asean-2024" in meta["scenario_text"]


def test_summary_names_its_denominators_and_the_adopters_at_the_start(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(SCENARIOS / "asean-2024.yaml"), "-n", "300", "--seed", "1",
                 "--out", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    runs = pd.read_parquet(out / "runs.parquet")
    agents = pd.read_parquet(out / "agents.parquet")
    failed = int((runs.blockers.map(len) > 0).sum())
    assert 0 < failed < len(runs)
    assert (f"Blockers at the last proposal voted down or withdrawn (share of the {failed} "
            "runs with one):") in text
    failed_votes, withdrawn = (runs.failed_votes > 0).mean(), (runs.withdrawals > 0).mean()
    assert (f"Summits: a vote failed in {failed_votes:.1%} of runs, a proposal was withdrawn "
            f"in {withdrawn:.1%}") in text
    forces = runs.version_adopted.value_counts()
    assert f"    standby_group      {forces.get('standby_group', 0) / len(runs):6.1%}" in text
    assert "(training_network held from the start)" in text
    assert ("adopters at the start (2024): IDN, MYS (2 of 10 in most runs); tipping at 4 of "
            "10 (2 more)") in text
    start = agents[agents.step == 0]
    held = (start.stage != "resistant").groupby(start.state, observed=True).mean()
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines()
            if len(line.split()) == 4 and line.split()[0] in held.index}
    assert set(rows) == set(held.index)
    assert 0 < held["MYS"] < 1 and held["IDN"] == 1
    for code, (by_horizon, at_start, _rank) in rows.items():
        assert at_start == (f"{held[code]:.1%}" if held[code] else "—"), code
        assert float(by_horizon.rstrip("%")) >= float(at_start.rstrip("%").replace("—", "0"))
    assert "holds the norm at any step from 2024 (step 0) on" in text


def test_same_seed_gives_identical_files(tmp_path):
    for name in ("a", "b"):
        assert main(["run", "asean-2003", "-n", "50", "--seed", "9", "--out",
                     str(tmp_path / name), "-q"]) == 0
    for file in ("runs.parquet", "steps.parquet", "agents.parquet", "metadata.json"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_engines_write_identical_runs(tmp_path):
    for engine in ("batch", "mesa"):
        assert main(["run", "asean-2015", "-n", "20", "--engine", engine, "--out",
                     str(tmp_path / engine), "-q"]) == 0
    for file in ("runs.parquet", "steps.parquet", "agents.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "batch" / file),
                                      pd.read_parquet(tmp_path / "mesa" / file))


def test_steps_option_sets_the_horizon(tmp_path, capsys):
    assert main(["run", "asean-2024", "-n", "10", "--steps", "3", "--no-agents",
                 "--out", str(tmp_path)]) == 0
    assert "(2024–2027)" in capsys.readouterr().out
    assert pd.read_parquet(tmp_path / "steps.parquet")["year"].max() == 2027
    assert not (tmp_path / "agents.parquet").exists()


def test_validate_checks_without_running(capsys):
    assert main(["validate", *map(str, sorted(SCENARIOS.glob("asean-*.yaml")))]) == 0
    assert capsys.readouterr().out.count(": ok (") == 5


BAD = {
    "malformed YAML": ("start_year: 2000\nstates: {{IDN: [\n", "invalid YAML"),
    "unknown key": ("extends: {base}\nregion: {{tipping_shar: 0.5}}\n",
                    "region.tipping_shar: unknown key; allowed: tipping_share"),
    "out of range": ("extends: {base}\nregion: {{tipping_share: -1}}\n",
                     "region.tipping_share: -1 is out of range; allowed: a number > 0"),
    "wrong type": ("extends: {base}\nend_year: soon\n",
                   "end_year: expected an integer >= 1900 and <= 2300, got text 'soon'"),
    "unknown state code": ("extends: {base}\nentrepreneurs: {{XYZ: {{intensity: 1}}}}\n",
                           "entrepreneurs.XYZ: unknown state code 'XYZ'"),
    "duplicate key": ("extends: {base}\nregion:\n  tipping_share: 0.5\n  tipping_share: 0.4\n",
                      "region.tipping_share: duplicate key 'tipping_share': given on line 3 "
                      "and again on line 4"),
    "share above 1": ("extends: {base}\nregion: {{tipping_share: 1.5}}\n",
                      "region.tipping_share: 1.5 is out of range; allowed: a number > 0 and "
                      "<= 1"),
    "infinite share": ("extends: {base}\nregion: {{tipping_share: .inf}}\n",
                       "region.tipping_share: inf is not a finite number"),
    "network beyond memory": ("kind: threshold\nnetwork: {{generator: complete, n: 1000000}}\n"
                              "threshold: 0.5\ninitial_adopters: {{random: 1}}\n",
                              "network: a complete network with n = 1,000,000 needs about "),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_exits_2_with_one_line_per_problem_and_writes_nothing(tmp_path, case):
    text, expected = BAD[case]
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(text.format(base=SCENARIOS / "asean-2024.yaml"))
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "normsim", "run", str(scenario), "--out", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert any(line.startswith(f"{scenario}: ") and expected in line
               for line in done.stderr.splitlines()), done.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == [scenario]


def test_a_cycle_a_horizon_past_the_cap_and_a_huge_network_exit_2(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    huge = tmp_path / "huge.yaml"
    huge.write_text("kind: threshold\nnetwork: {generator: complete, n: 1000000}\n"
                    "threshold: 0.5\ninitial_adopters: {random: 1}\n")
    out = tmp_path / "out"
    for argv, expected in (
        (["run", str(tmp_path / "a.yaml"), "--out", str(out)],
         "extends: circular: a.yaml -> b.yaml -> a.yaml"),
        (["run", "asean-2024", "--steps", "1000", "--out", str(out)],
         "end_year: 3024 is out of range; allowed: an integer >= 1900 and <= 2300"),
        (["run", str(THRESHOLD / "watts-2002.yaml"), "--steps", "20000000", "--out", str(out)],
         "steps: 20000000 is out of range; allowed: an integer >= 0"),
        (["validate", str(huge)], "GiB available here"),
    ):
        done = subprocess.run([sys.executable, "-m", "normsim", *argv], capture_output=True,
                              text=True, check=False)
        assert done.returncode == 2, (argv, done.stderr)
        assert "Traceback" not in done.stderr and done.stdout == ""
        assert len(done.stderr.splitlines()) == 1 and expected in done.stderr, done.stderr
        assert "extends itself" not in done.stderr
        assert not out.exists()


def test_steps_are_true_in_the_metadata(tmp_path):
    assert main(["run", "asean-2024", "-n", "5", "--steps", "3", "--no-agents", "-q",
                 "--out", str(tmp_path)]) == 0
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["steps"] == 3
    assert (meta["scenario_resolved"]["start_year"], meta["scenario_resolved"]["end_year"]) == (
        2024, 2027)


def test_an_extending_file_is_labelled_with_its_own_name(tmp_path, capsys):
    mine = tmp_path / "my-variant.yaml"
    mine.write_text(f"extends: {SCENARIOS / 'asean-2024.yaml'}\nend_year: 2027\n")
    out = tmp_path / "out"
    assert main(["run", str(mine), "-n", "5", "--no-agents", "-q", "--out", str(out)]) == 0
    assert "my-variant" in capsys.readouterr().out
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["scenario_name"] == meta["scenario_resolved"]["name"] == "my-variant"


def test_missing_file_and_bad_options_exit_2(tmp_path):
    for argv, expected in (
        (["run", str(tmp_path / "nope.yaml")], "no such file"),
        (["run", "asean-2024", "-n", "0"], "must be at least 1"),
        (["run", "asean-2024", "--seed", "x"], "expected a whole number"),
        (["run", "asean-2024", "--engine", "gpu"], "invalid choice"),
    ):
        done = subprocess.run([sys.executable, "-m", "normsim", *argv], capture_output=True,
                              text=True, check=False)
        assert done.returncode == 2, argv
        assert expected in done.stderr and "Traceback" not in done.stderr


def test_a_folder_given_as_scenario_or_sweep_is_named_a_folder(tmp_path, capsys):
    for argv, kind in ((["run"], "scenario"), (["validate"], "scenario"), (["sweep"], "sweep")):
        assert main([*argv, str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert f"{tmp_path}: (file): is a folder, not a {kind} file" in err, err
        assert "no such file" not in err


def test_out_that_is_a_file_is_refused_before_running(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("keep me")
    assert main(["run", "asean-2024", "-n", "5", "--out", str(target)]) == 2
    assert "must be a folder" in capsys.readouterr().err
    assert target.read_text() == "keep me"


THRESHOLD = SCENARIOS / "threshold"


def test_threshold_scenarios_run_through_the_same_command(tmp_path, capsys):
    out = tmp_path / "watts"
    assert main(["run", str(THRESHOLD / "watts-2002.yaml"), "-n", "30", "--seed", "2",
                 "--out", str(out)]) == 0
    assert "P(adopter share >= 0.5)" in capsys.readouterr().out
    runs = pd.read_parquet(out / "runs.parquet")
    assert list(runs.columns[:3]) == ["run_id", "replicate", "seed"]
    assert runs["final_adopter_share"].between(0, 1).all()
    assert runs["cascade_reached"].any(), "z = 4 lies inside Watts's cascade window"
    steps = pd.read_parquet(out / "steps.parquet")
    assert (steps.groupby("run_id")["adopter_share"].diff().dropna() >= 0).all()
    assert not (out / "agents.parquet").exists(), "per-agent table off by default"


def test_granovetter_riot_from_the_command_line(tmp_path):
    assert main(["run", str(THRESHOLD / "granovetter-riot.yaml"), "-n", "2", "--out",
                 str(tmp_path), "-q"]) == 0
    agents = pd.read_parquet(tmp_path / "agents.parquet")
    assert (agents["adoption_step"] == agents["node"] + 1).all(), "one more rioter a step"


def test_threshold_scenario_errors_and_engine(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: threshold\nnetwork: {generator: erdos_renyi, n: 100, mean_degree: 4}\n"
                   "threshold: 1.5\ninitial_adopters: {random: 1}\n")
    done = subprocess.run([sys.executable, "-m", "normsim", "run", str(bad)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{bad}: threshold.value: " in done.stderr
    done = subprocess.run([sys.executable, "-m", "normsim", "run", "--engine", "mesa",
                           str(THRESHOLD / "watts-2002.yaml")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "batch engine" in done.stderr
