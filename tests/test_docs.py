"""Docs that run: the README's main command and Python examples, the ODD's tables."""

import re
import shlex
import subprocess
import sys

from normsim.norms import REGIONAL_TRANSITIONS, STATE_TRANSITIONS

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_readme_main_job_runs_and_summarizes(tmp_path):
    first = _blocks("bash")[0]
    command = first.split("&&")[-1].strip()
    argv = shlex.split(command)
    assert argv[0].endswith("normsim") and argv[1] == "run"
    argv = [a.replace("scenarios/", str(ROOT / "scenarios") + "/") for a in argv[1:]]
    done = subprocess.run([sys.executable, "-m", "normsim", *argv], cwd=tmp_path,
                          capture_output=True, text=True, check=True)
    assert "P(cascade by 2040)" in done.stdout
    assert (tmp_path / "results" / "asean-2024" / "runs.parquet").exists()


def test_readme_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    from normsim.cli import main

    assert main(["run", str(ROOT / "scenarios" / "asean-2024.yaml"), "-n", "20", "-q",
                 "--out", "results/asean-2024"]) == 0
    for block in _blocks("python"):
        exec(compile(block, "README.md", "exec"), {})


def test_odd_lists_every_transition_of_the_tables():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    for table in (STATE_TRANSITIONS, REGIONAL_TRANSITIONS):
        for t in table:
            row = f"| {t.source.name.lower()} | {t.target.name.lower()} |"
            assert row in odd, row
