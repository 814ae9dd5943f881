"""The notebooks run top to bottom on CI-sized data, and are committed without outputs.

Each notebook reads ``$NORMSIM_RESULTS/<name>`` when the full command of its first cell has
been run there; otherwise it runs the same command, smaller, into a temporary folder. The
test points ``NORMSIM_RESULTS`` at an empty folder so that the small path is what runs.
(``pytest --nbmake notebooks`` executes them the same way.)
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_four_notebooks_without_outputs_each_naming_its_command():
    assert [p.stem for p in NOTEBOOKS] == ["01-historical-episodes", "02-levers", "03-sensitivity",
                                           "04-calibration"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0]
        assert first.cell_type == "markdown"
        assert re.search(r"^normsim (run|sweep|calibrate) ", first.source, re.MULTILINE), path.name
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
                assert "normsim.viz" not in cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("NORMSIM_RESULTS", str(tmp_path))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    images = [
        o
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.outputs
        if "image/png" in o.get("data", {})
    ]
    assert len(images) >= 3, "figures were not displayed"
