"""Pattern files, and the runs that check them: P(match), the joint probability, ablations.

Pattern-oriented modelling (Grimm et al. 2005): a model is held to several observed
patterns at once, at several levels (the region, a state, the institution), and each
mechanism must be needed for one of them. A pattern file declares them as data::

    name: asean-history
    scenario: asean-2003          # default scenario of its patterns (a shipped name or a path)
    replicates: 1000
    seed: 2003
    patterns:
      - id: proposal-2003-blocked
        level: institution        # region | state | institution
        claim: The 2003 proposal fails, with Singapore and Vietnam among the opponents.
        citation: "002:641-655; 000:95"
        statistic: {kind: summit, year: 2003, outcome: [failed, withdrawn],
                    blockers_include: [SGP, VNM]}
        observed: true            # the value history shows
        tolerance: 0.5            # the pattern holds when P(match) >= tolerance
    not_represented:              # patterns of the record the model cannot show, and why
      - {id: ..., claim: ..., citation: ..., reason: ...}

A pattern may name its own ``scenario`` and ``overrides`` (dotted keys, applied after the
file's ``overrides``). One marked ``checks: initial_condition``, with a ``why``, checks the
calibrated initial condition rather than a mechanism (a summit one step after it): no
ablation can make it fail, and ``normsim patterns --ablate`` prints its reason instead.
Statistic kinds and what each reads: :mod:`normsim.analysis.patterns`.
A run *matches* a pattern when its statistic equals ``observed``; the calibration reads the
same file as its targets.

:func:`run_patterns` runs each scenario's replicates once on the batch engine (with the
agents table) and evaluates every pattern on the tables. With ``ablate``, it runs them again
once per mechanism switch of the scenario's kind (the fields of the ``mechanisms`` section
of ``kind.schema``, each set to false by the override ``mechanisms.<name>: false``), with the
same seeds (common random numbers), so a difference comes from the mechanism alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from normsim import __version__, outdir
from normsim.analysis.patterns import (
    ALPHA,
    PatternDataError,
    drop_p_value,
    joint,
    matches,
    proportion,
)
from normsim.experiments.replicates import run_scenario
from normsim.models import get_kind
from normsim.scenario import Scenario, ScenarioError, load_scenario, read_yaml, resolve_path
from normsim.schema import (
    Choice,
    Flag,
    Free,
    ListOf,
    Num,
    Section,
    Tagged,
    Text,
    _Context,
    _type_name,
    _validate,
)

DEFAULT_PATTERNS = "asean-history"
"""The shipped pattern file ``normsim patterns`` checks when given none."""
ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
OUTCOMES = ("adopted", "failed", "withdrawn")
CHECKS = ("mechanisms", "initial_condition")
"""What a pattern checks (``checks``): the mechanisms, or only the calibrated initial
condition (a summit one step after it: no mechanism has acted yet)."""
REGIONAL_STAGES = ("emergence", "cascade", "internalization")
"""The region's life-cycle stages (Finnemore & Sikkink 1998), as ``steps.regional_stage``."""

_YEAR = Num(None, 1900, 2300, "A calendar year.", "pattern", integer=True)
_YEARS = ListOf(_YEAR, "Calendar years.")
_CODES = ListOf(Text(None, "A state code of the scenario."), "State codes of the scenario.")
_COUNT = Num(None, 0, None, "A number of states.", "pattern", integer=True)

STATISTIC = Tagged(
    "kind",
    {
        "summit": Section(
            {"year": _YEAR, "years": _YEARS,
             "outcome": ListOf(Choice(OUTCOMES, None, "A summit's outcome."),
                               "The outcomes that match (empty: any summit)."),
             "version": Text(None, "The version tabled (a key of norm.versions)."),
             "tabled_not": ListOf(Text(None, "A key of norm.versions."),
                                  "Versions none of which was tabled (taken off the table, "
                                  "or the proposal withdrawn)."),
             "blockers_include": _CODES},
            "A summit in the year(s) with one of the outcomes; every listed state blocked it.",
            one_of=(("year", "years"),)),
        "adopters": Section(
            {"year": _YEAR, "only": _CODES, "include": _CODES, "exclude": _CODES,
             "max_count": _COUNT, "min_count": _COUNT},
            "The states holding the norm in the year: exactly `only`; or including, "
            "excluding, at most, at least.",
            required=("year",),
            exclusive=(("only", "include"), ("only", "exclude"), ("only", "max_count"),
                       ("only", "min_count"))),
        "version_adopted": Section(
            {"by": _YEAR, "between": ListOf(_YEAR, "[first, last] year.", length=2),
             "version": Text(None, "A key of norm.versions."),
             "versions": ListOf(Text(None, "A key of norm.versions."),
                                "Keys of norm.versions: any of them."),
             "adopted": Flag(True, "Whether it was adopted (false: it was not).", "pattern")},
            "A version (or any of several) first adopted by a year, or between two years.",
            one_of=(("by", "between"), ("version", "versions"))),
        "regional_stage": Section(
            {"year": _YEAR,
             "stage": ListOf(Choice(REGIONAL_STAGES, None, "A regional stage."),
                             "The stages that match."),
             "never_tipped_by": _YEAR},
            "The region's stage in a year, or no tipping by a year.",
            one_of=(("year", "never_tipped_by"),)),
        "support_broader": Section(
            {"earlier": _YEAR, "later": _YEAR,
             "measure": Choice(("mean_support", "near_threshold"), "mean_support",
                               "Mean support, or states within margin of their threshold.",
                               "pattern"),
             "margin": Num(0.1, 0.0, 1.0, "How close to its threshold a state counts.",
                           "pattern")},
            "Support broader in the later year than in the earlier one.",
            required=("earlier", "later")),
        "speedup_after_tipping": Section(
            {"window": Num(3, 1, 100, "Years before and after the tipping year.", "pattern",
                           integer=True)},
            "Runs that tip adopt faster after the tip than before it."),
    },
    "What is measured in each run; `kind` picks the statistic (normsim.analysis.patterns).",
)
PATTERN = Section(
    {
        "id": Text(None, "A unique name: lower-case letters, digits and -."),
        "level": Choice(("region", "state", "institution"), None,
                        "The level of the pattern (Grimm et al. 2005).", "pattern"),
        "claim": Text(None, "The pattern in words."),
        "citation": Text(None, "Where it is observed: seed key:line."),
        "scenario": Text(None, "The scenario it is checked on (default: the file's)."),
        "overrides": Free("Dotted scenario keys, applied after the file's overrides.",
                          form="mapping", default={}),
        "statistic": STATISTIC,
        "observed": Flag(True, "The statistic's value in the record.", "pattern"),
        "tolerance": Num(None, 0.0, 1.0, "The pattern holds when P(match) >= tolerance.",
                         "pattern"),
        "note": Text("", "How the claim is read into the model."),
        "checks": Choice(CHECKS, "mechanisms", "What the pattern checks: the mechanisms "
                         "(some ablation must make it fail), or the calibrated initial "
                         "condition (no mechanism can act on it; it must hold).", "pattern"),
        "why": Text("", "Why the pattern checks the initial condition (required with "
                    "checks: initial_condition)."),
    },
    "One pattern: its claim, citation, statistic, observed value and tolerance.",
    required=("id", "level", "claim", "citation", "statistic", "observed", "tolerance"),
)
LEFT_OUT = Section(
    {"id": Text(None, "A name."), "claim": Text(None, "The pattern in words."),
     "citation": Text(None, "Where it is observed."),
     "reason": Text(None, "Why the model does not show it.")},
    "A pattern of the record the model does not represent.",
    required=("id", "claim", "citation", "reason"),
)
PATTERN_FILE = Section(
    {
        "name": Text(None, "The file's name (default: the file name)."),
        "description": Text("", "What the patterns are."),
        "scenario": Text(None, "The default scenario: a path relative to this file or a "
                         "shipped scenario name."),
        "overrides": Free("Dotted scenario keys applied to every scenario of the file.",
                          form="mapping", default={}),
        "replicates": Num(1000, 1, None, "Replicates per scenario.", "pattern", integer=True),
        "seed": Num(0, 0, None, "The master seed (the same for every scenario and ablation).",
                    "pattern", integer=True),
        "patterns": ListOf(PATTERN, "The patterns."),
        "not_represented": ListOf(LEFT_OUT, "Patterns the model does not represent."),
    },
    "A pattern file: patterns with their statistics, observed values and tolerances.",
    required=("scenario", "patterns"),
)
"""The structure of a pattern file, in the scenario files' schema engine; :func:`parse_patterns`
adds the checks against each pattern's scenario."""


@dataclass(frozen=True)
class Pattern:
    """One validated pattern and the scenario it is checked on."""

    id: str
    level: str
    claim: str
    citation: str
    statistic: dict[str, Any]
    observed: bool
    tolerance: float
    scenario: Scenario
    group: str
    note: str = ""
    checks: str = "mechanisms"
    why: str = ""

    @property
    def checks_initial_condition(self) -> bool:
        """Whether it checks the calibrated initial condition (no ablation can fail it)."""
        return self.checks == "initial_condition"

    def describe(self) -> dict[str, Any]:
        """The pattern as a plain mapping (for patterns.json)."""
        return {"id": self.id, "level": self.level, "claim": self.claim,
                "citation": self.citation, "scenario": self.group,
                "statistic": self.statistic, "observed": self.observed,
                "tolerance": self.tolerance, "note": self.note, "checks": self.checks,
                "why": self.why}


@dataclass(frozen=True)
class PatternSet:
    """A validated pattern file."""

    name: str
    description: str
    source: str
    text: str
    patterns: tuple[Pattern, ...]
    replicates: int
    seed: int
    not_represented: tuple[dict[str, Any], ...] = ()
    scenarios: dict[str, Scenario] = field(default_factory=dict)

    def groups(self) -> dict[str, list[Pattern]]:
        """The patterns of each scenario (:attr:`Pattern.group`), in file order."""
        out: dict[str, list[Pattern]] = {}
        for p in self.patterns:
            out.setdefault(p.group, []).append(p)
        return out


def _scenario(name: str, overrides: Mapping[str, Any], base_dir: Path | None, where: str,
              ctx: _Context) -> Scenario | None:
    try:
        scenario = load_scenario(resolve_path(name, relative_to=base_dir))
    except ScenarioError as err:
        for q in err.problems:
            ctx.fail(where, f"{err.file}: {q.path}: {q.message}")
        return None
    if not overrides:
        return scenario
    try:
        return scenario.with_overrides(overrides)
    except ScenarioError as err:
        for q in err.problems:
            ctx.fail(f"{where} overrides ({q.path})", q.message)
        return None


def _check_statistic(stat: dict[str, Any], scenario: Scenario, where: str,
                     ctx: _Context) -> None:
    """The statistic's years, state codes and version keys against its scenario."""
    data = scenario.data
    first, last = data.get("start_year"), data.get("end_year")
    for key in ("year", "by", "never_tipped_by", "earlier", "later"):
        year = stat.get(key)
        if isinstance(year, int) and isinstance(first, int) and not first <= year <= last:
            ctx.fail(f"{where}.{key}", f"{year} is outside the scenario {scenario.name} "
                     f"({first}–{last}); allowed: a year from {first} to {last}")
    for key in ("years", "between"):
        for i, year in enumerate(stat.get(key) or []):
            if isinstance(year, int) and isinstance(first, int) and not first <= year <= last:
                ctx.fail(f"{where}.{key}[{i}]", f"{year} is outside the scenario "
                         f"{scenario.name} ({first}–{last})")
    between = stat.get("between")
    if between and len(between) == 2 and between[0] > between[1]:
        ctx.fail(f"{where}.between", "the first year is after the last")
    codes = scenario.codes
    for key in ("only", "include", "exclude", "blockers_include"):
        for i, code in enumerate(stat.get(key) or []):
            if code not in codes:
                ctx.fail(f"{where}.{key}[{i}]", f"unknown state code {code!r}; defined "
                         f"under states of {scenario.name}: {', '.join(codes)}")
    versions = (data.get("norm") or {}).get("versions")
    asked = [("version", stat["version"])] if stat.get("version") else [
        (f"versions[{i}]", v) for i, v in enumerate(stat.get("versions") or [])]
    asked += [(f"tabled_not[{i}]", v) for i, v in enumerate(stat.get("tabled_not") or [])]
    keys = [v.get("key") for v in versions or []]
    for key, version in asked if versions else ():
        if version not in keys:
            ctx.fail(f"{where}.{key}", f"{version!r} is not a version of {scenario.name}; "
                     f"allowed: {', '.join(map(str, keys))}")
    kind = stat.get("kind")
    if kind == "regional_stage" and stat.get("year") is not None and not stat.get("stage"):
        ctx.fail(f"{where}.stage", "missing; with year, give the stages that match")
    if kind == "adopters" and not any(stat.get(k) is not None for k in
                                      ("only", "include", "exclude", "max_count", "min_count")):
        ctx.fail(where, "give at least one of only, include, exclude, max_count or min_count")


def parse_patterns(raw: Any, source: str = "<memory>", text: str = "",
                   base_dir: Path | None = None) -> PatternSet:
    """Validate a pattern file given as a mapping.

    Raises:
        ScenarioError: every problem, one line each (``file: key.path: message``).
    """
    ctx = _Context()
    if not isinstance(raw, dict):
        ctx.fail("", f"expected a mapping of keys, got {_type_name(raw)}")
        raise ScenarioError(source, ctx.problems)
    if "states" in raw or "kind" in raw:
        ctx.fail("", "this is a scenario file; give a pattern file (shipped: "
                 f"{DEFAULT_PATTERNS})")
        raise ScenarioError(source, ctx.problems)
    data = _validate(PATTERN_FILE, raw, "", ctx)
    scenarios: dict[str, Scenario | None] = {}
    patterns = []
    seen: set[str] = set()
    for i, item in enumerate(data["patterns"]):
        where = f"patterns[{i}]"
        pid = item.get("id")
        if isinstance(pid, str):
            if not ID.match(pid):
                ctx.fail(f"{where}.id", f"{pid!r}: lower-case letters, digits and - only")
            elif pid in seen:
                ctx.fail(f"{where}.id", f"{pid!r} is used twice; ids must be unique")
            seen.add(pid)
        name = item.get("scenario") or data["scenario"]
        if name is None:
            continue
        overrides = {**data["overrides"], **item["overrides"]}
        group = name if not item["overrides"] else (
            f"{name} with {json.dumps(item['overrides'], sort_keys=True)}")
        if group not in scenarios:
            scenarios[group] = _scenario(name, overrides, base_dir,
                                         f"{where}.scenario" if item.get("scenario") or
                                         item["overrides"] else "scenario", ctx)
        scenario = scenarios[group]
        if item.get("checks") == "initial_condition" and not item.get("why"):
            ctx.fail(f"{where}.why", "missing; with checks: initial_condition, say why no "
                     "mechanism can act on the pattern")
        if scenario is None or not item.get("statistic"):
            continue
        _check_statistic(item["statistic"], scenario, f"{where}.statistic", ctx)
        patterns.append(Pattern(pid, item.get("level"), item.get("claim"),
                                item.get("citation"), item["statistic"], item.get("observed"),
                                item.get("tolerance"), scenario, group, item.get("note", ""),
                                item.get("checks", "mechanisms"), item.get("why", "")))
    if not data["patterns"]:
        ctx.fail("patterns", "at least one pattern is required")
    if ctx.problems:
        raise ScenarioError(source, ctx.problems)
    name = data["name"] or (Path(source).stem if source != "<memory>" else "patterns")
    return PatternSet(name, data["description"], source, text, tuple(patterns),
                      data["replicates"], data["seed"], tuple(data["not_represented"]),
                      {k: v for k, v in scenarios.items() if v is not None})


def load_patterns(name: str | Path = DEFAULT_PATTERNS) -> PatternSet:
    """Read and validate a pattern file: a path, or a shipped name (``asean-history``)."""
    path = resolve_path(name, "patterns")
    raw, text = read_yaml(path)
    return parse_patterns(raw, str(path), text, path.parent)


# --------------------------------------------------------------------------- running

FULL = "(full model)"
"""The row of the model with every mechanism on."""


class NothingToAblate(ValueError):
    """No scenario of the file has mechanism switches to turn off."""


def mechanisms(scenario: Scenario) -> tuple[str, ...]:
    """The mechanism switches of a scenario's kind.

    They are the true/false fields of the ``mechanisms`` section of the kind's schema (none
    if the kind has no such section), so a new mechanism gets an ablation row by itself.
    """
    section = get_kind(scenario.kind).schema.fields.get("mechanisms")
    if not isinstance(section, Section):
        return ()
    return tuple(name for name, spec in section.fields.items() if isinstance(spec, Flag))


@dataclass
class PatternResults:
    """The tables of a pattern check: per pattern, per scenario (joint), per ablation.

    Attributes:
        patterns: one row per pattern of the full model.
        joint: one row per scenario: the runs that match all its patterns.
        ablation: one row per mechanism switched off and pattern (empty without ablation).
        meta: the file, seeds, replicates and versions.
    """

    patterns: pd.DataFrame
    joint: pd.DataFrame
    ablation: pd.DataFrame
    meta: dict[str, Any]

    def write(self, out: Path, *, overwrite: bool = False,
              figures: Callable[[Path], None] | None = None) -> list[str]:
        """Publish patterns.csv, joint.csv, ablation.csv and patterns.json to ``out``.

        The set is published as a whole (:func:`normsim.outdir.publish`);
        ``figures(folder)`` draws from the written tables into the same set first.
        """
        outdir.claim(out, overwrite=overwrite)

        def write(staging: Path) -> None:
            self.patterns.to_csv(staging / "patterns.csv", index=False)
            self.joint.to_csv(staging / "joint.csv", index=False)
            if not self.ablation.empty:
                self.ablation.to_csv(staging / "ablation.csv", index=False)
            if figures is not None:
                figures(staging)
            record = {**self.meta,
                      "patterns": _records(self.patterns),
                      "joint": _records(self.joint),
                      "ablation": _records(self.ablation)}
            text = json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n"
            (staging / "patterns.json").write_text(text, encoding="utf-8")

        return outdir.publish(out, write, last="patterns.json")


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(table.to_json(orient="records"))


def _evaluate(group: list[Pattern], results: Any) -> tuple[dict[str, pd.Series], dict[str, str]]:
    flags, notes = {}, {}
    for p in group:
        try:
            flags[p.id] = matches(p.statistic, p.observed, results.runs, results.steps,
                                  results.agents)
        except PatternDataError as err:
            notes[p.id] = f"not evaluable: {err}"
    return flags, notes


def run_patterns(pset: PatternSet, *, replicates: int | None = None, seed: int | None = None,
                 ablate: bool = False, progress: bool = False) -> PatternResults:
    """Run every scenario of a pattern file and evaluate its patterns (and ablations).

    Args:
        pset: the validated pattern file.
        replicates: replicates per scenario and row (default: the file's).
        seed: the master seed (default: the file's); the same for every row.
        ablate: also run each scenario once per mechanism switch, switched off.
        progress: show a progress bar (one step per scenario and row).

    Raises:
        NothingToAblate: ``ablate`` and no scenario's kind has mechanism switches.
    """
    n = pset.replicates if replicates is None else replicates
    master = pset.seed if seed is None else seed
    groups = pset.groups()
    rows = {g: ((FULL, *mechanisms(pset.scenarios[g])) if ablate else (FULL,)) for g in groups}
    if ablate and all(len(r) == 1 for r in rows.values()):
        kinds = sorted({pset.scenarios[g].kind for g in groups})
        raise NothingToAblate(f"the {', '.join(kinds)} kind declares no mechanism switches "
                              "(a `mechanisms` section of true/false in its schema); nothing "
                              "to ablate")
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=sum(map(len, rows.values())), unit="row", desc="patterns",
                   leave=False)
    pattern_rows, joint_rows, ablation_rows = [], [], []
    try:
        for g, group in groups.items():
            base = pset.scenarios[g]
            full: dict[str, dict[str, Any]] = {}
            for row in rows[g]:
                scenario = base if row == FULL else base.with_overrides(
                    {f"mechanisms.{row}": False})
                results = run_scenario(scenario, n, master, agents=True)
                flags, notes = _evaluate(group, results)
                if bar is not None:
                    bar.update()
                if row == FULL:
                    for p in group:
                        stats = (proportion(flags[p.id]) if p.id in flags else
                                 proportion(pd.Series([], dtype="boolean")))
                        full[p.id] = stats
                        pattern_rows.append({
                            "scenario": g, "pattern": p.id, "level": p.level,
                            "observed": p.observed, "tolerance": p.tolerance, **stats,
                            "holds": bool(stats["runs"] and stats["p_match"] >= p.tolerance),
                            "note": notes.get(p.id, ""), "claim": p.claim,
                            "citation": p.citation, "checks": p.checks, "why": p.why,
                            "statistic": json.dumps(p.statistic, sort_keys=True)})
                    both = joint(pd.DataFrame(flags)) if flags else pd.Series([], dtype=bool)
                    stats = proportion(both)
                    joint_rows.append({"scenario": g, "patterns": len(flags),
                                       "of_patterns": len(group), **stats})
                    continue
                for p in group:
                    stats = proportion(flags[p.id]) if p.id in flags else proportion(
                        pd.Series([], dtype="boolean"))
                    ref = full[p.id]
                    pvalue = drop_p_value(ref["matches"], ref["runs"], stats["matches"],
                                          stats["runs"])
                    ablation_rows.append({
                        "mechanism": row, "scenario": g, "pattern": p.id, **stats,
                        "p_full": ref["p_match"], "p_value": pvalue,
                        "drops": bool(pvalue < ALPHA)})
    finally:
        if bar is not None:
            bar.close()
    meta = {
        "normsim": __version__,
        "pattern_file": pset.name,
        "source": pset.source,
        "text": pset.text,
        "replicates": n,
        "seed": master,
        "ablation": ablate,
        "test": f"one-sided Fisher exact test, alpha = {ALPHA}",
        "scenarios": {g: {"name": s.name, "hash": s.digest} for g, s in pset.scenarios.items()},
        "not_represented": list(pset.not_represented),
    }
    columns = ["mechanism", "scenario", "pattern", "matches", "runs", "p_match", "ci_low",
               "ci_high", "p_full", "p_value", "drops"]
    return PatternResults(pd.DataFrame(pattern_rows), pd.DataFrame(joint_rows),
                          pd.DataFrame(ablation_rows, columns=columns), meta)
