"""The JSON Schema of scenario and sweep files (``normsim schema``), generated from the specs.

Every shipped file validates against its kind's exported schema: the file as written (an
editor's view, ``extends:`` allowed) and the resolved data after ``extends`` is merged (what
the loader validates). Bad files (wrong type, out of range, unknown key) fail it.
"""

import json

import pytest

from normsim.cli import main
from normsim.experiments.sweepfile import SWEEP
from normsim.models import DEFAULT_KIND, KINDS
from normsim.scenario import read_yaml
from normsim.scenario.load import _parse
from normsim.schema import json_schema

from .conftest import SCENARIO_FILES, SCENARIOS

jsonschema = pytest.importorskip("jsonschema")  # the dev extra

SWEEP_FILES = sorted((SCENARIOS / "sweeps").glob("*.yaml"))


def validator(kind: str) -> jsonschema.Draft202012Validator:
    spec = SWEEP if kind == "sweep" else KINDS[kind].schema
    schema = json_schema(spec, kind, extends=kind != "sweep")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(kind: str, data: object) -> list[str]:
    return [e.message for e in validator(kind).iter_errors(data)]


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_every_shipped_scenario_validates_against_its_exported_schema(path):
    resolved, _ = _parse(path)  # extends merged: what the loader validates
    kind = resolved.get("kind", DEFAULT_KIND)
    assert errors(kind, resolved) == []
    written, _ = read_yaml(path)  # as an editor sees the file
    assert errors(kind, written) == []


@pytest.mark.parametrize("path", SWEEP_FILES, ids=lambda p: p.stem)
def test_every_shipped_sweep_validates_against_the_sweep_schema(path):
    data, _ = read_yaml(path)
    assert errors("sweep", data) == []


def _watts() -> dict:
    data, _ = read_yaml(SCENARIOS / "threshold" / "watts-2002.yaml")
    return data


@pytest.mark.parametrize(("change", "fragment"), [
    ({"steps": "many"}, "is not of type 'integer'"),
    ({"tipping_share": 0}, "less than or equal to the minimum"),
    ({"colour": "blue"}, "Additional properties are not allowed"),
    ({"network": {"generator": "grid", "n": 10}}, "is not valid under any of the given"),
    ({"network": {"generator": "erdos_renyi", "n": 10, "mean_degree": 2, "p": 0.1}},
     "is not valid under any of the given"),
    ({"threshold": 1.5}, "is not valid under any of the given"),
])
def test_a_bad_threshold_file_fails_the_schema(change, fragment):
    found = errors("threshold", {**_watts(), **change})
    assert found and any(fragment in e for e in found), found


def test_a_bad_regional_file_fails_the_schema():
    kind = DEFAULT_KIND
    data, _ = _parse(SCENARIOS / "asean-2024.yaml")
    assert errors(kind, {**data, "end_year": "soon"})
    assert errors(kind, {**data, "surprise": 1})
    assert errors(kind, {**data, "start_year": 1066})


def test_a_bad_sweep_file_fails_the_schema():
    good, _ = read_yaml(SWEEP_FILES[0])
    assert errors("sweep", {**good, "replicates": 0})
    assert errors("sweep", {**good, "colour": "blue"})
    assert errors("sweep", {**good, "levers": {"design": "factorial"}})


def test_a_bare_number_threshold_and_a_design_name_validate():
    assert errors("threshold", {**_watts(), "threshold": 0.2}) == []
    good, _ = read_yaml(SWEEP_FILES[0])
    assert errors("sweep", {**good, "levers": {"design": {"kind": "lhs", "samples": 8}}}) == []


def test_descriptions_carry_meaning_and_source_and_defaults_are_given():
    schema = json_schema(KINDS["threshold"].schema)
    tipping = schema["properties"]["tipping_share"]
    assert tipping["exclusiveMinimum"] == 0 and tipping["maximum"] == 1
    assert tipping["default"] == pytest.approx(1 / 3)
    assert "Source: 002:281–283." in tipping["description"]


def test_normsim_schema_writes_each_kind_and_sweep_files(tmp_path, capsys):
    for kind in (*KINDS, "sweep"):
        out = tmp_path / f"{kind}.schema.json"
        assert main(["schema", "--kind", kind, "--out", str(out)]) == 0
        schema = json.loads(out.read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
    capsys.readouterr()
    assert main(["schema", "--kind", "threshold"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "normsim threshold scenario file"
    assert main(["params", "--kind", "threshold"]) == 0
    assert "| network(generator: erdos_renyi).mean_degree |" in capsys.readouterr().out


def test_odd_holds_the_generated_threshold_parameter_table():
    from normsim.schema import parameter_table

    from .conftest import ROOT

    odd = (ROOT / "docs" / "ODD.md").read_text()
    assert parameter_table(KINDS["threshold"].schema) in odd, \
        "regenerate it: normsim params --kind threshold"
