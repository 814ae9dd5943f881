"""docs/kinds.md runs: its worked example adds a kind that `normsim run` and `sweep` take."""

import re

import pandas as pd
import pytest

from normsim.cli import main
from normsim.models import KINDS

from .conftest import ROOT

GUIDE = (ROOT / "docs" / "kinds.md").read_text()


@pytest.fixture
def bass():
    namespace: dict = {}
    for block in re.findall(r"```python\n(.*?)```", GUIDE, flags=re.S):
        exec(compile(block, "docs/kinds.md", "exec"), namespace)
    yield namespace["BassKind"]
    KINDS.pop("bass", None)


def test_the_guide_adds_a_kind_that_runs_and_sweeps(bass, tmp_path, capsys):
    assert "bass" in KINDS
    (tmp_path / "bass.yaml").write_text("kind: bass\nname: bass\np: 0.02\nq: 0.4\n")
    assert main(["run", str(tmp_path / "bass.yaml"), "-n", "50", "-q"]) == 0
    assert capsys.readouterr().out.startswith("P(cascade)")
    (tmp_path / "sweep.yaml").write_text(
        "name: bass-q\nscenario: bass.yaml\nseed: 1\nreplicates: 20\n"
        "uncertainties:\n  design: grid\n  parameters:\n"
        "    q: {key: q, values: [0.0, 0.6]}\n")
    assert main(["sweep", str(tmp_path / "sweep.yaml"), "--workers", "1", "-q",
                 "--out", str(tmp_path / "out")]) == 0
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    final = runs.groupby("q").final_adopter_share.mean()
    assert final[0.6] > final[0.0] + 0.3, "imitation speeds adoption"


def test_the_guide_shows_the_error_its_check_gives(bass, tmp_path, capsys):
    (tmp_path / "bass.yaml").write_text("kind: bass\np: 0.5\nq: 0.6\n")
    assert main(["validate", str(tmp_path / "bass.yaml")]) == 2
    line = capsys.readouterr().err.strip()
    assert line.endswith("q: p + q must be at most 1; allowed: a number <= 1 - p")
    assert line in GUIDE.replace("bass.yaml", str(tmp_path / "bass.yaml"))
