"""The model-kind interface, its registry, the one seed scheme and the layers of the package."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from normsim import models
from normsim.experiments.replicates import run_scenario
from normsim.models import KINDS, ModelKind, get_kind, register
from normsim.scenario import ScenarioError, from_dict
from normsim.schema import Num, Section, Text
from normsim.seeds import replicate_seeds, run_seed

PACKAGE = Path(models.__file__).parent.parent


class CoinKind:
    """A toy kind: each step every run flips a coin; the runs table counts the heads."""

    name = "coin"
    schema = Section({"kind": Text("coin"), "name": Text(""), "steps": Num(3, 1, 100,
                                                                           integer=True)})
    engines = ("batch",)
    columns = frozenset({"heads"})
    page = None
    mesa_model = None

    def check(self, data, ctx):
        pass

    def horizon(self, data):
        return data["steps"]

    def with_steps(self, data, steps):
        return {"steps": steps}

    def describe(self, data):
        return f"{data['steps']} flips"

    def facts(self, data):
        return {"steps": data["steps"]}

    def simulate(self, scenario, seeds, *, engine="batch", agents=True, progress=False):
        return [np.random.default_rng(s).integers(0, 2, scenario.steps) for s in seeds]

    def tables(self, scenario, raw, seeds, run_ids, replicates, agents):
        runs = pd.DataFrame({"run_id": run_ids, "replicate": replicates, "seed": seeds,
                             "heads": [int(r.sum()) for r in raw]})
        steps = pd.DataFrame({"run_id": np.repeat(run_ids, scenario.steps),
                              "seed": np.repeat(seeds, scenario.steps),
                              "step": np.tile(np.arange(scenario.steps), len(raw)),
                              "heads": np.concatenate([r.cumsum() for r in raw])})
        return runs, steps, None

    def summarize(self, results):
        return f"{results.runs.heads.sum()} heads"

    def levers(self, scenario):
        return {}

    def lever_overrides(self, scenario, **levers):
        return {}

    def lever_spec(self, scenario, lever):
        return None


@pytest.fixture
def coin():
    kind = register(CoinKind())
    yield kind
    del KINDS["coin"]


def test_the_shipped_kinds_have_the_whole_interface():
    assert list(KINDS) == ["region", "threshold"]
    for kind in KINDS.values():
        assert isinstance(kind, ModelKind)
        assert kind.engines and kind.engines[0] == "batch"
    assert get_kind("region").mesa_model.__name__ == "RegionModel"
    assert get_kind("threshold").mesa_model is None


def test_an_unknown_kind_is_named_with_the_kinds_there_are():
    with pytest.raises(KeyError, match="unknown model kind 'nope'; the kinds are: region, "
                       "threshold"):
        get_kind("nope")
    with pytest.raises(ScenarioError, match="kind: 'nope' is not allowed; allowed: region, "
                       "threshold"):
        from_dict({"kind": "nope"})


def test_a_new_kind_is_one_registered_object(coin):
    scenario = from_dict({"kind": "coin", "steps": 5})
    assert scenario.steps == 5 and scenario.with_steps(7).steps == 7
    results = run_scenario(scenario, replicates=4, seed=2)
    assert list(results.runs.seed) == replicate_seeds(2, 4)
    assert len(results.steps) == 4 * 5 and results.agents is None
    assert coin.summarize(results).endswith("heads")
    with pytest.raises(ValueError, match="coin scenarios run on the batch engine only"):
        run_scenario(scenario, replicates=1, engine="mesa")


def test_a_new_kind_runs_through_the_run_and_sweep_commands(coin, tmp_path, capsys):
    from normsim.analysis.effects import summarize_sweep
    from normsim.cli import main
    from normsim.results import read_results

    (tmp_path / "coin.yaml").write_text("kind: coin\nname: coin\nsteps: 4\n")
    assert main(["run", str(tmp_path / "coin.yaml"), "-n", "6", "--seed", "3", "-q",
                 "--out", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("heads")
    runs = read_results(tmp_path / "run").runs
    assert list(runs.seed) == replicate_seeds(3, 6) and runs.heads.between(0, 4).all()

    (tmp_path / "flips.yaml").write_text(
        "name: flips\nscenario: coin.yaml\nseed: 5\nreplicates: 3\n"
        "uncertainties:\n  design: grid\n  parameters:\n"
        "    steps: {key: steps, values: [2, 8]}\n")
    assert main(["sweep", str(tmp_path / "flips.yaml"), "--workers", "1", "-q",
                 "--out", str(tmp_path / "sweep")]) == 0
    swept = pd.read_parquet(tmp_path / "sweep" / "runs.parquet")
    assert list(swept.groupby("point_id").size()) == [3, 3]
    assert (swept.loc[swept.steps == 2, "heads"] <= 2).all()
    assert list(swept.seed) == [run_seed(5, p, r) for p in range(2) for r in range(3)]
    assert "flips" in summarize_sweep(tmp_path / "sweep")


def test_one_seed_scheme_for_replicates_and_sweep_points():
    def block(sequence: np.random.SeedSequence) -> int:  # a block seed: 53 bits
        return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(11))

    for master in (0, 7, 2**40):
        blocks = np.random.SeedSequence(master).spawn(2)
        assert replicate_seeds(master, 1030) == [
            block(blocks[r // 1024]) << 10 | r % 1024 for r in range(1030)]
        point_blocks = np.random.SeedSequence(master).spawn(4)[3].spawn(2)  # point 3
        assert run_seed(master, 3, 4) == block(point_blocks[0]) << 10 | 4
        assert run_seed(master, 3, 1024 + 4) == block(point_blocks[1]) << 10 | 4


# Lower layers never import higher ones. Each entry: a package (or module) and the normsim
# modules it may not import.
FORBIDDEN = {
    "schema.py": ("normsim.models", "normsim.scenario", "normsim.experiments", "normsim.cli"),
    "models": ("normsim.scenario", "normsim.experiments", "normsim.viz", "normsim.cli",
               "normsim.plotting"),
    "scenario": ("normsim.experiments", "normsim.viz", "normsim.cli", "normsim.plotting"),
    "experiments": ("normsim.viz", "normsim.cli", "normsim.plotting"),
    "analysis": ("normsim.experiments", "normsim.scenario", "normsim.viz", "normsim.cli"),
    "plotting": ("normsim.experiments", "normsim.viz", "normsim.cli"),
}
ALLOWED = {
    # RegionModel("asean-2024") loads a scenario by name: Mesa's Reset calls
    # type(model)(**params) with a name, and only the scenario layer can load one. The
    # import happens inside __init__, when a name (not a Scenario) is given.
    ("models/region/model.py", "normsim.scenario"),
}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """The modules a file imports, and whether only for type checking."""
    tree = ast.parse(path.read_text())
    checking = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            checking |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, id(node) in checking))
        elif isinstance(node, ast.Import):
            found += [(alias.name, id(node) in checking) for alias in node.names]
    return found


def test_lower_layers_never_import_higher_ones():
    wrong = []
    for layer, forbidden in FORBIDDEN.items():
        root = PACKAGE / layer
        for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
            where = path.relative_to(PACKAGE).as_posix()
            for module, typing_only in _imports(path):
                if typing_only or (where, module) in ALLOWED:
                    continue
                if any(module == f or module.startswith(f"{f}.") for f in forbidden):
                    wrong.append(f"{where} imports {module}")
    assert not wrong, wrong


def test_the_experiment_layer_and_cli_never_ask_which_kind_it_is():
    for path in [*sorted((PACKAGE / "experiments").rglob("*.py")), PACKAGE / "cli.py"]:
        text = path.read_text()
        for branch in ("scenario.kind ==", "scenario.kind !=", '== "region"', '!= "region"',
                       '== "threshold"', '!= "threshold"'):
            assert branch not in text, (path, branch)
        assert "IDN" not in text, path


def test_a_kind_without_a_page_is_refused_by_viz(coin, tmp_path, capsys):
    from normsim.cli import main

    (tmp_path / "coin.yaml").write_text("kind: coin\nsteps: 2\n")
    assert main(["viz", str(tmp_path / "coin.yaml")]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "coin scenarios have no browser page; the kinds with one: region, threshold")
