"""Scenario files: loading, ``extends``, overrides, validation against the kind's schema.

The public API: :func:`load_scenario` (a path or a shipped name), :func:`from_dict`,
:func:`validate`, :class:`Scenario`, :class:`ScenarioError`; :func:`resolve_path` and
:func:`shipped_names` find files, :func:`read_yaml` reads them.
"""

from normsim.scenario.files import SCENARIO_DIR, resolve_path, shipped_names
from normsim.scenario.load import Scenario, from_dict, load_scenario, validate
from normsim.scenario.yamlfile import read_yaml
from normsim.schema import ScenarioError

__all__ = [
    "SCENARIO_DIR",
    "Scenario",
    "ScenarioError",
    "from_dict",
    "load_scenario",
    "read_yaml",
    "resolve_path",
    "shipped_names",
    "validate",
]
