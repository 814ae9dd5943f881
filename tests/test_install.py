"""A plain install works: the wheel ships the scenarios and sweeps, found by name anywhere.

Issue 8, item 13. The wheel is built from a copy of the sources (so no ``build/`` folder is
left in the checkout) with ``pip wheel --no-build-isolation --no-index``: offline, with the
setuptools of the ``dev`` extra. It is installed with ``--no-deps`` into a fresh virtual
environment made ``--without-pip`` (this interpreter's pip installs into it through
``pip --python``). Why not ``--system-site-packages`` or a full install: the first would
see the editable checkout, the second needs the network. Instead the fresh environment gets
the dependencies (numpy, Mesa, ...) through a ``.pth`` line naming this environment's
site-packages: a folder added by a ``.pth`` line is not scanned for ``.pth`` files, so the
editable install's hook, which points at the checkout, is not run, and the test asserts that
``normsim`` and its scenarios are imported from the fresh environment. Every command runs
from an empty folder outside the checkout. About 10 s.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "src", "scenarios")
"""What a build reads: the project's metadata, the package and its data (as an sdist)."""


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False,
                          timeout=300)
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    """A fresh virtual environment with the wheel installed: (its bin folder, wheel, env)."""
    assert importlib.util.find_spec("setuptools"), "needs setuptools: pip install -e '.[dev]'"
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(ROOT / name, source / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--no-index", "-q", "-w", str(tmp / "dist"), str(source)], tmp, env)
    (wheel,) = (tmp / "dist").glob("normsim-*.whl")
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp, env)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--no-index", "-q", str(wheel)], tmp, env)
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     tmp, env).strip())
    (site / "_normsim_test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return venv / "bin", wheel, {**env, "HOME": str(elsewhere)}


def test_the_wheel_holds_every_package_and_the_shipped_files(installed):
    _, wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = {p.parent.relative_to(ROOT / "src").as_posix()
                for p in (ROOT / "src" / "normsim").rglob("__init__.py")}
    for package in packages:  # pyproject.toml lists packages explicitly: none is forgotten
        assert f"{package}/__init__.py" in names, package
    shipped = {p.relative_to(ROOT / "scenarios").as_posix()
               for p in (ROOT / "scenarios").rglob("*.yaml")}
    assert {"asean-2024.yaml", "threshold/watts-2002.yaml", "sweeps/asean-levers.yaml"} <= shipped
    for name in shipped:
        assert f"normsim/scenarios/{name}" in names, name


def test_installed_package_runs_named_scenarios_and_a_sweep_from_another_folder(installed):
    bin_dir, _, env = installed
    cwd = Path(env["HOME"])
    where = _run([str(bin_dir / "python"), "-c",
                  "import normsim, normsim.scenarios as s; print(normsim.__file__); "
                  "print(s.__file__)"], cwd, env)
    venv = bin_dir.parent.resolve()
    assert all(Path(line).resolve().is_relative_to(venv) for line in where.split()), where

    normsim = str(bin_dir / "normsim")
    text = _run([normsim, "run", "asean-2024", "-n", "20", "--seed", "1", "-q",
                 "--out", "run"], cwd, env)
    assert "P(cascade by 2040)" in text and (cwd / "run" / "runs.parquet").is_file()
    text = _run([normsim, "validate", "asean-2003", "asean-2024-localized",
                 "threshold/watts-2002"], cwd, env)  # the first two extend asean-2024.yaml
    assert "asean-2003" in text
    _run([normsim, "sweep", "asean-sensitivity", "--samples", "2", "--replicates", "1",
          "--workers", "1", "-q", "--out", "sweep"], cwd, env)
    assert (cwd / "sweep" / "runs.parquet").is_file()
    text = _run([str(bin_dir / "python"), "-c",
                 "from normsim.models.region.model import RegionModel\n"
                 "from normsim.viz.controls import catalog\n"
                 "model = RegionModel('asean-2024', rng=1)\n"
                 "model.run_model()\n"
                 "print(model.member('IDN').code)\n"
                 "print(' '.join(catalog('asean-2024').names))"], cwd, env)
    model, picker = text.splitlines()
    assert model == "IDN"
    assert set(picker.split()) == {"asean-2003", "asean-2011", "asean-2015", "asean-2024",
                                   "asean-2024-localized", "examples/un-security-council",
                                   "null/asean-2003-constant-resistance",  # calibration's
                                   "null/asean-2003-pure-threshold"}       # null models
