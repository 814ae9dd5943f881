"""Docs that run: the README's commands in order and its Python examples, the ODD's tables."""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from normsim.models.region.norms import REGIONAL_TRANSITIONS, STATE_TRANSITIONS

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


# What the README test runs differently, and why: each entry must match the README (so the
# list cannot go stale), and nothing else is changed. {port} is a free port on 127.0.0.1.
SUBSTITUTIONS: tuple[tuple[str, str, str], ...] = (
    ("python3.12 -m venv .venv && ", "",
     "the copy's .venv is this test's environment (CI: made by scripts/setup.sh), not a new one"),
    (' && pip install -e ".[calibrate]"', "",
     "that environment has normsim installed editable from the checkout, with every extra; "
     "installing the copy would repoint it"),
    ("bash scripts/setup.sh && pytest", "pytest --collect-only -q",
     "the same environment; the suite that runs this test is collected, not run again"),
    ('pip install -e ".[viz]"', "", "the same environment, with every extra installed"),
    ("--replicates 1000 --seed 1", "--replicates 20 --seed 1", "size"),
    ("--out results/asean-levers ", "--out results/asean-levers --replicates 1 ",
     "size: 1,080 runs, not 108,000"),
    ("--out results/asean-sensitivity", "--out results/asean-sensitivity --samples 2 "
     "--replicates 1", "size: 48 runs, not 245,760"),
    ("--replicates 200 --out results/watts", "--replicates 2 --out results/watts", "size"),
    ("--ablate --out results/patterns", "--ablate --replicates 20 --out results/patterns",
     "size: 20 runs per scenario and row, not 1,000"),
    ("--out results/watts-window ", "--out results/watts-window --replicates 2 ",
     "size: 646 runs, not 32,300"),
    ("--out results/calibration --workers 2", "--out results/calibration --workers 1 "
     "--population 20 --generations 1 --predictive-draws 5",
     "size: 20 particles, not 1,000"),
    ("--recovery 20 --population 200 --out results/recovery --workers 2",
     "--recovery 2 --population 10 --out results/recovery --workers 1",
     "size: 2 repeats of 10 particles, not 20 of 200"),
    ("--out results/holdout --workers 2", "--out results/holdout --workers 1 --population 20 "
     "--predictive-draws 5", "size: 20 particles, not 1,000"),
    ("--out results/null-models --workers 2 --predictive-draws 1000",
     "--out results/null-models --workers 1 --population 20 --predictive-draws 5",
     "size: 20 particles and 5 direct draws per model, not 1,000 and 1,000"),
    ("--draws 100 -n 1000", "--draws 5 -n 20", "size"),
    ("--draws 20 --out results/asean-levers-posterior",
     "--draws 1 --replicates 1 --out results/asean-levers-posterior",
     "size: 1,080 runs over one draw, not 108,000 over 20"),
    ("--out docs/figures --overwrite", "--out docs/figures --overwrite --replicates 4 "
     "--draws 2 --workers 1", "size: 4 runs per setting over 2 draws, not 1,000 over 100 "
     "(the copy's docs/figures are replaced, as the command is meant to)"),
    ("normsim viz asean-2024 --port 8765", "serve_and_check {port} normsim viz asean-2024 "
     "--port {port}", "a server: started, checked to answer on 127.0.0.1, then stopped"),
)

PRELUDE = """set -x
serve_and_check() {  # PORT COMMAND...: start a server, wait until it answers, stop it
  local port=$1; shift
  "$@" &
  local pid=$!
  for _ in $(seq 240); do
    if python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' \\
        "http://127.0.0.1:$port/" 2>/dev/null; then
      kill -INT "$pid"; wait "$pid" || true; return 0
    fi
    kill -0 "$pid" 2>/dev/null || { echo "the server exited" >&2; return 1; }
    sleep 0.5
  done
  kill "$pid"; echo "no answer on 127.0.0.1:$port" >&2; return 1
}
"""
"""Defines the helper the server substitution calls; ``set -x`` shows each command run."""


def _readme_script(port: int) -> str:
    script = "\n".join(_blocks("bash"))
    for text, instead, _why in SUBSTITUTIONS:
        assert text in script, f"substitution {text!r} no longer matches the README"
        script = script.replace(text, instead.format(port=port))
    return PRELUDE + script


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _copy_of_the_checkout(target: Path) -> None:
    """The files a clean clone has (tracked, and new ones not ignored), as they are now."""
    listed = subprocess.run(["git", "ls-files", "-z", "-c", "-o", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="runs in the project's virtual env")
def test_readme_commands_run_as_written_in_order_in_a_fresh_shell(tmp_path):
    """Every bash block of the README, in order, in one fresh bash, in a copy of the checkout.

    Only :data:`SUBSTITUTIONS` is changed. The copy's ``.venv`` is a link to the environment
    running this test (the README makes and fills it; here it exists), and the shell's
    ``PATH`` does not hold that environment, so a command that needs the README's
    ``source .venv/bin/activate`` fails as it would for a reader. About a minute and a half.
    """
    repo = tmp_path / "normsim"
    _copy_of_the_checkout(repo)
    (repo / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    port = _free_port()
    script = tmp_path / "readme.sh"
    script.write_text(_readme_script(port))
    venv_bin = str(Path(sys.prefix) / "bin")
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and not p.startswith(venv_bin))
    shell = subprocess.Popen(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                             cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        out, err = shell.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):  # a server left behind by a failure
            os.killpg(shell.pid, signal.SIGTERM)
    assert shell.returncode == 0, f"{out[-3000:]}\n{err[-3000:]}"
    assert "P(cascade by 2040)" in out and "credible interval" in out
    assert f"http://127.0.0.1:{port}/" in out
    results = repo / "results"
    for made in ("asean-2024/runs.parquet", "asean-levers/runs.parquet",
                 "calibration/posterior.parquet", "asean-levers-posterior/runs.parquet",
                 "asean-sensitivity/sensitivity.csv", "watts/runs.parquet",
                 "watts-window/figures/cascade_window.png"):
        assert (results / made).is_file(), made
    assert list((results / "asean-levers" / "figures").glob("*.svg"))
    record = json.loads((repo / "docs" / "figures" / "figures.json").read_text())
    assert record["posterior"]["draws"] == 2, "the README's figures command did not run"


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
