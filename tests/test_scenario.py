"""Scenario files: the shipped ones load, every number is sourced, bad input is refused."""

import contextlib
import json
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normsim.norms import NORM_KEYS
from normsim.scenario import (
    ScenarioError,
    build_params,
    from_dict,
    load_scenario,
    parameter_table,
    validate,
)

from .conftest import ASEAN_SCENARIOS, ROOT, SCENARIOS

ISO3 = ("BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM")
CITATION = re.compile(r"\b00[0-4]:\d|[A-Z][a-z]+[^#]{0,25}\b(19|20)\d\d\b")  # seed or literature
NUMBER_VALUE = re.compile(r"(:\s+|\[|,\s*)-?\d+(\.\d+)?\s*(,|\]|\}|$)")  # a YAML number


def test_the_five_required_scenarios_ship():
    names = {p.stem for p in ASEAN_SCENARIOS}
    assert {"asean-2003", "asean-2011", "asean-2015", "asean-2024",
            "asean-2024-localized"} <= names


@pytest.mark.parametrize("path", ASEAN_SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenarios_load_with_the_ten_members(path):
    scenario = load_scenario(path)
    assert scenario.codes == ISO3
    params = build_params(scenario)
    assert params.steps == scenario.data["end_year"] - scenario.data["start_year"] > 0
    assert params.entrepreneurs, "every ASEAN scenario has Indonesia as entrepreneur"


SCENARIO_FILES = sorted(p for p in SCENARIOS.rglob("*.yaml") if "sweeps" not in p.parts)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_every_number_in_a_scenario_file_has_a_source_or_says_assumption(path):
    """A line with a number carries a seed citation (e.g. 002:650) or the word assumption."""
    unsourced = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        code, _, comment = line.partition("#")
        if NUMBER_VALUE.search(code) and not (
            CITATION.search(comment) or "assumption" in comment
        ):
            unsourced.append(f"{path.name}:{number}: {line.strip()}")
    assert not unsourced, "\n".join(unsourced)


def test_extends_merges_mappings_and_replaces_lists(history, today):
    assert history.data["norm"]["conflict"] == today.data["norm"]["conflict"]
    assert history.data["states"]["SGP"]["support"] == 0.05
    assert history.data["states"]["SGP"]["norms"] == today.data["states"]["SGP"]["norms"]
    assert next(e["year"] for e in history.data["events"]) == 2003
    assert today.data["events"] == []


def test_localized_framing_lowers_the_clash_at_a_price():
    standard = build_params(load_scenario(SCENARIOS / "asean-2024.yaml"))
    localized = build_params(load_scenario(SCENARIOS / "asean-2024-localized.yaml"))
    assert (localized.conflict <= standard.conflict).all()
    assert localized.conflict.sum() < standard.conflict.sum()
    assert localized.appeal < standard.appeal == 1.0
    assert localized.regime_conflict < standard.regime_conflict


def test_defaults_fill_what_a_file_leaves_out():
    scenario = from_dict({"start_year": 2000, "end_year": 2010, "states": {"AAA": {}}})
    state = scenario.data["states"]["AAA"]
    assert set(state["norms"]) == set(NORM_KEYS)
    assert scenario.data["region"]["tipping_share"] == pytest.approx(1 / 3)
    assert scenario.data["entrepreneurs"] == {}


def test_digest_identifies_the_model_not_the_spelling():
    a = from_dict({"start_year": 2000, "end_year": 2010, "states": {"AAA": {}}})
    b = from_dict({"end_year": 2010, "states": {"AAA": {"support": 0.1}}, "start_year": 2000})
    c = from_dict({"start_year": 2000, "end_year": 2011, "states": {"AAA": {}}})
    assert a.digest == b.digest != c.digest


def test_overrides_use_dotted_keys_and_are_validated(today):
    changed = today.with_overrides({"region.tipping_share": 0.5,
                                    "entrepreneurs.IDN.strategy": "receptive"})
    assert changed.data["region"]["tipping_share"] == 0.5
    assert changed.data["entrepreneurs"]["IDN"]["strategy"] == "receptive"
    with pytest.raises(ScenarioError, match=r"entrepreneurs\.IDN\.strategy"):
        today.with_overrides({"entrepreneurs.IDN.strategy": "bribery"})


def test_parameter_table_covers_the_schema():
    table = parameter_table()
    for key in ("region.tipping_share", "dynamics.resistance", "states.<CODE>.threshold",
                "events[](type: regime_change).state", "norm.localization.appeal"):
        assert f"| {key} |" in table


def test_odd_parameter_table_is_the_generated_one():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    assert parameter_table() in odd, "regenerate it: normsim params"


# --------------------------------------------------------------------------- bad input

BASE = {"start_year": 2000, "end_year": 2010, "states": {"IDN": {}, "SGP": {}},
        "entrepreneurs": {"IDN": {}}}


def _problems(raw) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        validate(raw, "bad.yaml")
    return str(err.value).splitlines()


@pytest.mark.parametrize(
    ("change", "path", "allowed"),
    [
        ({"colour": "red"}, "colour", "allowed: kind, name"),
        ({"region": {"tipping_share": -0.2}}, "region.tipping_share", "> 0"),
        ({"region": {"max_blockers": 1.5}}, "region.max_blockers", "an integer"),
        ({"dynamics": {"noise": "loud"}}, "dynamics.noise", "a number >= 0 and <= 1"),
        ({"dynamics": {"noise": True}}, "dynamics.noise", "a number"),
        ({"norm": {"framing": "bold"}}, "norm.framing", "standard, localized"),
        ({"entrepreneurs": {"XYZ": {}}}, "entrepreneurs.XYZ", "unknown state code 'XYZ'"),
        ({"entrepreneurs": {"IDN": {"strategy": "x"}}}, "entrepreneurs.IDN.strategy", "all"),
        ({"states": {"Indonesia": {}}}, "states.Indonesia", "three capital letters"),
        ({"events": [{"type": "proposal", "year": 2005, "by": "ABC"}]}, "events[0].by",
         "defined under states: IDN, SGP"),
        ({"events": [{"type": "flood", "year": 2005}]}, "events[0].type", "crisis, un_push"),
        ({"events": [{"type": "crisis", "year": 1999}]}, "events[0].year", "after start_year"),
        ({"end_year": 1990}, "end_year", "after start_year"),
        ({"states": {"IDN": {"norms": {"sovereignty": 1.5}}}}, "states.IDN.norms.sovereignty",
         "<= 1"),
        ({"network": {"pairs": [{"states": ["IDN"], "change": 0.1}]}},
         "network.pairs[0].states", "2 items"),
    ],
)
def test_each_problem_names_file_key_path_and_what_is_allowed(change, path, allowed):
    raw = json.loads(json.dumps(BASE))
    for key, value in change.items():
        raw[key] = {**raw[key], **value} if isinstance(value, dict) and key in raw else value
    lines = _problems(raw)
    assert any(line.startswith(f"bad.yaml: {path}: ") and allowed in line for line in lines), lines


def test_every_problem_is_reported_not_only_the_first():
    raw = {**BASE, "colour": 1, "region": {"tipping_share": "a third"}, "start_year": "now"}
    lines = _problems(raw)
    assert len(lines) >= 3


def test_missing_required_keys_are_named():
    lines = _problems({"states": {"IDN": {}}})
    assert any("start_year: missing" in line for line in lines)
    assert any("end_year: missing" in line for line in lines)


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("start_year: 2000\nstates: {IDN: [\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml: line \d+, column \d+: invalid YAML"):
        load_scenario(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load_scenario(bad)
    loop = tmp_path / "loop.yaml"
    loop.write_text("extends: loop.yaml\n")
    with pytest.raises(ScenarioError, match="circular"):
        load_scenario(loop)


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["start_year", "end_year", "states", "IDN", "region",
                                       "tipping_share", "events", "type", "year", "norms",
                                       "entrepreneurs", "dynamics", "noise", "x"]),
                      children, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JUNK)
def test_junk_is_either_valid_or_a_scenario_error(raw):
    try:
        data = validate(raw, "junk.yaml")
    except ScenarioError as err:
        assert err.problems
        assert all(line.startswith("junk.yaml: ") for line in str(err).splitlines())
    else:
        build_params(from_dict(data))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_junk_text_files_never_escape_as_other_errors(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("junk") / "junk.yaml"
    path.write_text(text)
    with contextlib.suppress(ScenarioError):
        load_scenario(path)


def test_yaml_scenario_round_trip(tmp_path, today):
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(today.data))
    assert load_scenario(path).digest == today.digest
