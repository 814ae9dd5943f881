"""Shared fixtures: the repository's folders and small, fast scenario variants."""

from pathlib import Path

import pytest

from normsim.scenario import Scenario, load_scenario, resolve_path, shipped_names

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
ASEAN_SCENARIOS = sorted(SCENARIOS.glob("asean-*.yaml"))
SCENARIO_FILES = [resolve_path(name) for name in shipped_names("scenario")]
"""Every shipped scenario file (not the sweeps, patterns or calibrations beside them)."""


@pytest.fixture(scope="session")
def today() -> Scenario:
    """Today's calibration, run to 2035 as the levers are judged (MODEL-BRIEF §1)."""
    return load_scenario(SCENARIOS / "asean-2024.yaml", {"end_year": 2035})


@pytest.fixture(scope="session")
def history() -> Scenario:
    """The historical calibration, 2002-2023."""
    return load_scenario(SCENARIOS / "asean-2003.yaml")
