"""Scenario files: the shipped ones load, every number is sourced, bad input is refused."""

import contextlib
import inspect
import json
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from normsim import scenario
from normsim.models.region import norms
from normsim.models.region.params import build_params
from normsim.models.region.schema import REGION
from normsim.models.threshold import schema as threshold_schema
from normsim.scenario import (
    ScenarioError,
    from_dict,
    load_scenario,
    resolve_path,
    validate,
)
from normsim.schema import parameter_rows, parameter_table

from .conftest import ASEAN_SCENARIOS, ROOT, SCENARIO_FILES, SCENARIOS

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
    assert state["norms"] == {}  # no prior norms declared
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
    table = parameter_table(REGION)
    for key in ("region.tipping_share", "dynamics.resistance", "states.<CODE>.threshold",
                "events[](type: regime_change).state", "norm.localization.appeal"):
        assert f"| {key} |" in table


def test_odd_parameter_table_is_the_generated_one():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    assert parameter_table(REGION) in odd, "regenerate it: normsim params"


def test_every_parameter_row_is_one_line_and_says_what_its_key_means():
    classes = [c for m in (norms, scenario) for c in vars(m).values() if inspect.isclass(c)]
    docstrings = {" ".join(c.__doc__.split()) for c in classes if c.__doc__}
    rows = list(parameter_rows(REGION))
    assert len(parameter_table(REGION).split("\n")) == len(rows) + 2
    for row in rows:
        assert all("\n" not in cell for cell in row), row[0]
        meaning = " ".join(row[3].split())
        assert meaning, row[0]
        assert not any(meaning in doc or doc in meaning for doc in docstrings), row[0]
    odd = (ROOT / "docs" / "ODD.md").read_text().split("\n")
    header = odd.index("| key | allowed | default | meaning | source |")
    assert odd[header:header + len(rows) + 2] == parameter_table(REGION).split("\n")
    keys = [row[0] for row in rows]
    for prefix in ("norm.conflict", "norm.localization.conflict_reduction", "states.<CODE>.norms",
                   "norms"):
        assert any(key.startswith(f"{prefix}.<KEY>") for key in keys), prefix
    assert not any("sovereignty" in key for key in keys)  # the norms are data, not schema


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
        ({"region": {"decision": {"rule": "max_objectors", "objectors": 1.5}}},
         "region.decision.objectors", "an integer"),
        ({"region": {"decision": {"rule": "unanimity"}}}, "region.decision.rule",
         "consensus, max_objectors, qualified_majority"),
        ({"region": {"decision": {"rule": "max_objectors"}}}, "region.decision.objectors",
         "required with rule max_objectors"),
        ({"region": {"decision": {"rule": "consensus", "share": 0.5}}}, "region.decision.share",
         "only with rule qualified_majority"),
        ({"region": {"decision": {"rule": "qualified_majority", "share": 0.6, "veto": ["XYZ"]}}},
         "region.decision.veto[0]", "defined under states: IDN, SGP"),
        ({"region": {"decision": {"rule": "consensus", "veto": ["IDN"]}}},
         "region.decision.veto", "only with rule qualified_majority"),
        ({"kind": "asean"}, "kind", "write kind: region"),
        ({"norms": {"a": {"name": "A", "meaning": "m", "source": "s"}},
          "norm": {"conflict": {"b": 0.5}}}, "norm.conflict.b", "declared under norms: a"),
        ({"norms": {"a": {"name": "A", "meaning": "m", "source": "s"}}},
         "states.IDN.norms.a", "missing; every name declared under norms"),
        ({"norms": {"a": {"name": "A"}}}, "norms.a.source", "missing"),
        ({"norm": {"regime_clash": "b"}}, "norm.regime_clash", "unknown norm 'b'"),
        ({"dynamics": {"noise": "loud"}}, "dynamics.noise", "a number >= 0 and <= 1"),
        ({"dynamics": {"noise": True}}, "dynamics.noise", "a number"),
        ({"norm": {"framing": "bold"}}, "norm.framing", "standard, localized"),
        ({"entrepreneurs": {"XYZ": {}}}, "entrepreneurs.XYZ", "unknown state code 'XYZ'"),
        ({"entrepreneurs": {"IDN": {"strategy": "x"}}}, "entrepreneurs.IDN.strategy", "all"),
        ({"states": {"1DN": {}}}, "states.1DN", "a letter, then letters, digits"),
        ({"events": [{"type": "proposal", "year": 2005, "by": "ABC"}]}, "events[0].by",
         "defined under states: IDN, SGP"),
        ({"events": [{"type": "flood", "year": 2005}]}, "events[0].type", "crisis, un_push"),
        ({"events": [{"type": "crisis", "year": 1999}]}, "events[0].year", "after start_year"),
        ({"end_year": 1990}, "end_year", "after start_year"),
        ({"norms": {"sovereignty": {"name": "s", "meaning": "m", "source": "s"}},
          "norm": {"conflict": {"sovereignty": 0.5}},
          "states": {"IDN": {"norms": {"sovereignty": 1.5}}, "SGP": {"norms": {"sovereignty": 1}}}},
         "states.IDN.norms.sovereignty", "<= 1"),
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


# ------------------------------------------------------ finding files (issue 8, items 10, 13)


def test_shipped_names_are_found_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert {"asean-2024", "threshold/watts-2002"} <= set(scenario.shipped_names())
    assert scenario.shipped_names("sweep") == ("asean-levers", "asean-sensitivity", "watts-window")
    for name in ("asean-2024", "asean-2024.yaml", "threshold/watts-2002"):
        assert scenario.resolve_path(name).is_file(), name
    assert scenario.resolve_path("asean-levers", "sweep").parent.name == "sweeps"
    assert load_scenario("threshold/granovetter-riot").kind == "threshold"


def test_a_file_in_the_current_folder_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "asean-2024.yaml").write_text("extends: asean-2024\nend_year: 2030\n")
    assert load_scenario("asean-2024.yaml").data["end_year"] == 2030


def test_extends_finds_a_shipped_base_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "elsewhere" / "mine.yaml"
    mine.parent.mkdir()
    mine.write_text("extends: asean-2024.yaml\nname: mine\nend_year: 2030\n")
    loaded = load_scenario(mine)
    assert (loaded.name, loaded.data["end_year"]) == ("mine", 2030)
    assert loaded.codes == load_scenario("asean-2024").codes
    mine.write_text("extends: nowhere.yaml\n")
    with pytest.raises(ScenarioError, match=r"mine.yaml: extends: nowhere.yaml: no such file"):
        load_scenario(mine)


@pytest.mark.parametrize("kind", ["scenario", "sweep"])
def test_a_folder_is_reported_as_a_folder_not_a_missing_file(tmp_path, kind):
    (tmp_path / "a.yaml").write_text("{}\n")
    with pytest.raises(ScenarioError) as err:
        scenario.resolve_path(tmp_path, kind)
    assert str(err.value) == (f"{tmp_path}: (file): is a folder, not a {kind} file; YAML "
                              f"files in it: {tmp_path / 'a.yaml'}")
    with pytest.raises(ScenarioError, match="is a folder, not a scenario file; YAML files in "
                       "it: threshold/granovetter-riot, threshold/watts-2002"):
        load_scenario("threshold")


def test_an_unknown_name_lists_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match="no such file; give a path to a sweep YAML file "
                       "or a shipped sweep name: asean-levers, asean-sensitivity"):
        scenario.resolve_path("levers", "sweep")


# --------------------------------------------------- bad input (issue 8, items 6 to 12)


def test_a_key_given_twice_is_an_error_naming_the_key_and_both_lines(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("start_year: 2000\nregion:\n  tipping_share: 0.5\n  tipping_share: 0.4\n"
                    "end_year: 2010\nstates: {IDN: {}}\nend_year: 2020\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(err.value).splitlines() == [
        f"{path}: region.tipping_share: duplicate key 'tipping_share': given on line 3 and "
        "again on line 4; give each key once",
        f"{path}: end_year: duplicate key 'end_year': given on line 5 and again on line 7; "
        "give each key once",
    ]


def test_a_sweep_file_uses_the_same_yaml_loader(tmp_path):
    from normsim.experiments.sweepfile import load_sweep

    path = tmp_path / "sweep.yaml"
    path.write_text("name: s\nscenario: asean-2024\nseed: 1\nseed: 2\n")
    with pytest.raises(ScenarioError, match=r"sweep.yaml: seed: duplicate key 'seed': given "
                       r"on line 3 and again on line 4"):
        load_sweep(path)


@pytest.mark.parametrize(("written", "value"), [("1e-2", 0.01), ("1E-2", 0.01),
                                                ("+5e-2", 0.05), ("2e-2", 0.02)])
def test_numbers_as_a_person_writes_them_are_numbers(tmp_path, written, value):
    path = tmp_path / "floats.yaml"
    path.write_text(f"extends: {SCENARIOS / 'asean-2024.yaml'}\ndynamics: {{noise: {written}}}\n")
    assert load_scenario(path).data["dynamics"]["noise"] == value


@pytest.mark.parametrize(
    ("raw", "path", "message"),
    [
        ({**BASE, "region": {"tipping_share": 1.5}}, "region.tipping_share",
         "1.5 is out of range; allowed: a number > 0 and <= 1"),
        ({**BASE, "region": {"tipping_share": float("inf")}}, "region.tipping_share",
         "inf is not a finite number; allowed: a number > 0 and <= 1"),
        ({**BASE, "dynamics": {"salience_half_life": {"crisis": float("inf")}}},
         "dynamics.salience_half_life.crisis", "inf is not a finite number"),
        ({**BASE, "dynamics": {"salience_half_life": {"rivalry": 10**400}}},
         "dynamics.salience_half_life.rivalry", "is not a finite number"),
        ({**BASE, "states": {"IDN": {"tipping_weight": 0}, "SGP": {"tipping_weight": 0}}},
         "states", "every tipping_weight is 0, so the region could never tip"),
        ({"kind": "threshold", "network": {"generator": "complete", "n": 10},
          "threshold": 0.5, "initial_adopters": {"random": 1}, "tipping_share": 1.5},
         "tipping_share", "1.5 is out of range; allowed: a number > 0 and <= 1"),
    ],
    ids=["share above 1", "infinite share", "infinite half-life", "huge integer",
         "no weight", "threshold share above 1"],
)
def test_shares_above_one_and_non_finite_numbers_are_refused(raw, path, message):
    lines = _problems(raw)
    assert any(line.startswith(f"bad.yaml: {path}: ") and message in line
               for line in lines), lines


def test_a_network_beyond_the_memory_of_the_machine_is_refused_with_the_estimate(monkeypatch):
    huge = {"kind": "threshold", "network": {"generator": "complete", "n": 10**6},
            "threshold": 0.5, "initial_adopters": {"random": 1}}
    (line,) = _problems(huge)
    assert line.startswith("bad.yaml: network: a complete network with n = 1,000,000 needs "
                           "about "), line
    assert "499,999,500,000 ties x 24 B" in line and "GiB available here" in line
    monkeypatch.setattr(threshold_schema, "available_memory", lambda: 2**30)  # a 1 GiB machine
    sparse = {**huge, "network": {"generator": "erdos_renyi", "n": 10**6, "mean_degree": 100}}
    (line,) = _problems(sparse)
    assert "more than the 1.0 GiB available here" in line
    sparse["network"]["mean_degree"] = 4
    assert validate(sparse)["network"]["n"] == 10**6


@pytest.mark.parametrize(("generator", "keys", "ties"), [
    ("complete", {}, 45), ("ring_lattice", {"k": 4}, 20),
    ("watts_strogatz", {"k": 4, "p": 0.1}, 20), ("erdos_renyi", {"mean_degree": 3}, 15),
    ("barabasi_albert", {"m": 2}, 16),
])
def test_the_tie_estimate_matches_the_built_graph(generator, keys, ties):
    import numpy as np

    from normsim.models.threshold.networks import build_network, expected_ties

    spec = {"generator": generator, "n": 10, **keys}  # as the schema leaves it
    assert expected_ties(spec) == ties
    if generator != "erdos_renyi":  # random in size; its estimate is the expectation
        assert build_network(spec, np.random.default_rng(1)).nnz == 2 * ties


def test_an_extends_cycle_is_named(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "a.yaml")
    assert str(err.value) == (f"{tmp_path / 'a.yaml'}: extends: circular: a.yaml -> b.yaml "
                              "-> a.yaml; a file cannot extend a file that extends it")


def test_a_file_that_extends_another_is_named_after_itself(tmp_path):
    mine = tmp_path / "my-variant.yaml"
    mine.write_text(f"extends: {SCENARIOS / 'asean-2024.yaml'}\nend_year: 2030\n")
    loaded = load_scenario(mine)
    assert loaded.name == loaded.data["name"] == "my-variant"
    mine.write_text(f"extends: {SCENARIOS / 'asean-2024.yaml'}\nname: own\n")
    assert load_scenario(mine).name == "own"
    assert load_scenario(SCENARIOS / "asean-2011.yaml").name == "asean-2011"


def test_steps_are_an_override_held_to_the_schema(today):
    assert today.with_steps(3).data["end_year"] == today.start_year + 3
    with pytest.raises(ScenarioError, match=r"end_year: 3024 is out of range; allowed: an "
                       r"integer >= 1900 and <= 2300 \(asked for 1,000 steps; at most 276"):
        today.with_steps(1000)
    watts = load_scenario(SCENARIOS / "threshold" / "watts-2002.yaml")
    assert watts.with_steps(7).steps == 7
    with pytest.raises(ScenarioError, match=r"steps: 20000000 is out of range"):
        watts.with_steps(2 * 10**7)



def test_members_without_names_survive_overrides():
    # An unset optional text (a member's name) stays unset when the scenario is
    # re-validated with overrides, as the Mesa model and the page do.
    data = yaml.safe_load(resolve_path("examples/un-security-council").read_text())
    for state in data["states"].values():
        state.pop("name", None)
    scenario = from_dict(data).with_overrides({"region.tipping_share": 0.5})
    assert scenario.data["states"]["CHN"]["name"] is None
