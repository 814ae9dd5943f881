"""Scenario files: parse -> fill defaults -> validate -> build.

A scenario is a YAML file. ``extends: other.yaml`` starts from another file (mappings merge
key by key, lists are replaced). The schema below is the one home of every parameter's
default, allowed range, meaning and source; ``docs/ODD.md``'s parameter table is generated
from it (``python -m normsim.scenario --markdown``). Validation collects every problem, each
naming the file, the key path and what is allowed, and raises :class:`ScenarioError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import yaml

from normsim.dynamics import Entrepreneur, Event, Params
from normsim.norms import NORM_KEYS, CoreNorm, Framing, Strategy

SCENARIO_DIR = Path(str(resources.files("normsim.scenarios")))
"""The shipped scenario files: package data ``normsim.scenarios``, which is the repository's
``scenarios/`` folder (``pyproject.toml`` maps it), in a wheel and an editable install alike.
Find files in it by name with :func:`resolve_path`, list them with :func:`shipped_names`."""

type FileKind = Literal["scenario", "sweep"]
SHIPPED_FOLDER: dict[FileKind, str] = {"scenario": "", "sweep": "sweeps"}
"""Where each kind of shipped file lives under :data:`SCENARIO_DIR`."""

STATE_CODE = re.compile(r"^[A-Z]{3}$")


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where and what is allowed."""

    path: str
    message: str


class ScenarioError(Exception):
    """A scenario that cannot be used; ``str()`` gives one line per problem."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems
        super().__init__("\n".join(f"{file}: {p.path}: {p.message}" for p in problems))


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class Num:
    """A number (or integer) with a range, a default, a meaning and a source."""

    default: float | None
    lo: float | None = None
    hi: float | None = None
    doc: str = ""
    source: str = "assumption"
    integer: bool = False
    nullable: bool = False
    lo_open: bool = False

    def allowed(self) -> str:
        """The allowed values, in words."""
        kind = "an integer" if self.integer else "a number"
        lo = "" if self.lo is None else (f" > {self.lo:g}" if self.lo_open else f" >= {self.lo:g}")
        hi = "" if self.hi is None else f" <= {self.hi:g}"
        span = f"{lo}{' and' if lo and hi else ''}{hi}"
        return f"{kind}{span}{' or null' if self.nullable else ''}"


@dataclass(frozen=True)
class Choice:
    """One of a fixed set of words."""

    options: tuple[str, ...]
    default: str | None
    doc: str = ""
    source: str = "assumption"

    def allowed(self) -> str:
        """The allowed values, in words."""
        return "one of " + ", ".join(self.options)


@dataclass(frozen=True)
class Text:
    """Free text."""

    default: str | None = ""
    doc: str = ""

    def allowed(self) -> str:
        """The allowed values, in words."""
        return "text"


@dataclass(frozen=True)
class Flag:
    """true or false."""

    default: bool
    doc: str = ""
    source: str = "assumption"

    def allowed(self) -> str:
        """The allowed values, in words."""
        return "true or false"


@dataclass(frozen=True)
class Code:
    """A state code defined under ``states``."""

    doc: str = ""
    default: str | None = None

    def allowed(self) -> str:
        """The allowed values, in words."""
        return "a state code defined under states"


@dataclass(frozen=True)
class Section:
    """A mapping with named fields; unknown keys are errors."""

    fields: dict[str, Spec]
    doc: str = ""
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class StateMap:
    """A mapping from state codes (three capital letters) to sections."""

    value: Section
    doc: str = ""
    defined_codes: bool = False  # keys must be states defined under ``states``


@dataclass(frozen=True)
class ListOf:
    """A list of items of one spec, with an optional fixed length."""

    item: Spec
    doc: str = ""
    length: int | None = None


@dataclass(frozen=True)
class Tagged:
    """A mapping whose ``tag`` key selects which section describes the rest."""

    tag: str
    variants: dict[str, Section]
    doc: str = ""


@dataclass(frozen=True)
class Checked:
    """A value whose shape an engine's own validator checks (see the threshold kind)."""

    doc: str = ""
    default: Any = None
    form: str = "a mapping"

    def allowed(self) -> str:
        """The allowed values, in words."""
        return self.form


type Spec = Num | Choice | Text | Flag | Code | Checked | Section | StateMap | ListOf | Tagged


def _norm_section(defaults: Mapping[str, float], doc: str, source: str,
                  meaning: Callable[[CoreNorm], str], hi: float = 1.0) -> Section:
    """One number per core norm; ``meaning`` says what the number means for each norm."""
    return Section(
        {norm.key: Num(defaults.get(norm.key, 0.0), 0.0, hi, meaning(norm), source)
         for norm in CoreNorm},
        doc,
    )


def _state_norm(norm: CoreNorm) -> str:
    return (f"Strength of the state's attachment to {norm.label}, a core norm of the ASEAN "
            f"Way (Haacke 2003); its clash with the force: {norm.clash}.")


def _norm_conflict(norm: CoreNorm) -> str:
    return (f"Conflict of the proposed norm with {norm.label} (Haacke 2003): how strongly "
            f"this core norm obstructs a regional force; {norm.clash}.")


def _conflict_reduction(norm: CoreNorm) -> str:
    return (f"Share of the conflict with {norm.label} that localized framing removes "
            "(Acharya 2004).")


def _prob(default: float, doc: str, source: str = "assumption") -> Num:
    return Num(default, 0.0, 1.0, doc, source)


def _rate(default: float, doc: str, source: str = "assumption") -> Num:
    return Num(default, 0.0, 5.0, doc, source)


def _year(doc: str, nullable: bool = False, default: int | None = None) -> Num:
    return Num(default, 1900, 2300, doc, "scenario", integer=True, nullable=nullable)


STATE = Section(
    {
        "name": Text(None, "Full name (defaults to the code)."),
        "cohort": Text("", "Membership cohort; states of one cohort trust each other more."),
        "subregion": Text("", "Subregion (e.g. mainland, maritime); same-subregion ties."),
        "first_deployment": _year("Year of first UN peacekeeping deployment; null = never.", True),
        "personnel": Num(0, 0, 1e6, "Uniformed UN peacekeepers (drawn as node size).",
                         "per state", integer=True),
        "regime_insecurity": _prob(0.5, "Fear that a force is turned against the regime "
                                   "(001:1 c.2126; 002:229–236)."),
        "prestige_motive": _prob(0.5, "Weight of prestige and status from peacekeeping "
                                 "(002:739–744; 000:95)."),
        "support": _prob(0.1, "Initial support for the proposed norm."),
        "threshold": _prob(0.5, "Support at which the state adopts (Granovetter 1978)."),
        "tipping_weight": Num(1.0, 0.0, 100.0, "Weight in the tipping share: Finnemore & "
                              "Sikkink's 'critical states' (default: every state counts once)."),
        "norms": _norm_section({k: 0.5 for k in NORM_KEYS}, "Strength of each core norm, 0–1.",
                               "per state", _state_norm),
    },
    "A member state.",
)

ENTREPRENEUR = Section(
    {
        "from": _year("First year of advocacy (default: the start year).", True),
        "until": _year("Last year of advocacy (default: open-ended).", True),
        "intensity": _rate(0.3, "Total persuasion effort per year, shared among targets."),
        "strategy": Choice(tuple(s.value for s in Strategy), "all", "Whom to lobby."),
        "targets": Num(3, 1, 1000, "How many states a targeted strategy lobbies.",
                       integer=True),
        "credibility": _prob(0.8, "How far the entrepreneur's arguments carry."),
    },
    "A norm entrepreneur's role, keyed by its state code.",
)

_YEAR = _year("Year of the event (after start_year).")
EVENT = Tagged(
    "type",
    {
        "crisis": Section({"year": _YEAR, "magnitude": _rate(0.5, "Crisis salience pulse.")},
                          required=("year",)),
        "un_push": Section({"year": _YEAR, "magnitude": _rate(0.5, "UN-partnership pulse.")},
                           required=("year",)),
        "rivalry": Section({"year": _YEAR, "magnitude": _rate(0.3, "Rivalry salience change.")},
                           required=("year",)),
        "regime_change": Section(
            {"year": _YEAR, "state": Code("Whose regime changes."),
             "regime_insecurity": _prob(0.5, "The new regime's insecurity.")},
            required=("year", "state", "regime_insecurity"),
        ),
        "proposal": Section({"year": _YEAR, "by": Code("Who tables the proposal.")},
                            required=("year", "by")),
        "cooperation": Section(
            {"year": _YEAR, "tie_change": Num(0.05, -1.0, 1.0, "Change of every tie.")},
            required=("year",),
        ),
    },
    "A scheduled exogenous event.",
)

ASEAN = Section(
    {
        "kind": Choice(("asean",), "asean", "Scenario kind."),
        "name": Text(None, "Scenario name (defaults to the file name)."),
        "description": Text("", "What the scenario represents."),
        "start_year": Num(None, 1900, 2300, "Year of the initial condition (step 0).",
                          "scenario", integer=True),
        "end_year": Num(None, 1900, 2300, "Horizon: the last simulated year.", "scenario",
                        integer=True),
        "norm": Section(
            {
                "name": Text("proposed norm", "The proposed norm."),
                "framing": Choice(tuple(f.value for f in Framing), "standard",
                                  "Framing of the proposed norm (Acharya 2004)."),
                "conflict": _norm_section({}, "Clash of the proposed norm with each core "
                                          "norm, 0–1.", "002:809–886", _norm_conflict),
                "localization": Section(
                    {
                        "conflict_reduction": _norm_section(
                            {}, "Share of each clash that localized framing removes.",
                            "001:1 c.2818–3016, c.4740–4860", _conflict_reduction),
                        "appeal": _prob(0.8, "Pull of the localized norm relative to the "
                                        "standard one: the price of a weaker norm."),
                    },
                    "Norm localization (Acharya 2004).",
                ),
            },
            "The proposed norm.",
        ),
        "region": Section(
            {
                "tipping_share": Num(1 / 3, 0.0, 1.0, "Tipping point: adopter share (weighted "
                                     "by tipping_weight) >= this; 1/3 of 10 means 4 states, "
                                     "1 means all.", "002:281–283", lo_open=True),
                "internalization_share": _prob(0.8, "Share of internalized states at which "
                                               "the region reaches internalization."),
                "summit_interval": Num(1, 1, 10, "Years between summits.", "002:480–481",
                                       integer=True),
                "max_blockers": Num(0, 0, 100, "Objections a decision survives: 0 is the "
                                    "consensus rule.", "002:480–484", integer=True),
                "acquiescence_margin": _prob(0.1, "A non-adopter within this margin of its "
                                             "threshold does not object."),
                "table_when_tipped": Flag(True, "Active entrepreneurs table the proposal "
                                          "while the region is in cascade."),
                "retable_interval": Num(3, 1, 100, "Minimum years between tabled proposals.",
                                        integer=True),
            },
            "The region and its decision rule.",
        ),
        "dynamics": Section(
            {
                "neighbour_influence": _rate(0.05, "Pull of adopting neighbours (Watts 2002)."),
                "cascade_socialization": _rate(0.15, "Pull after tipping: conformity, "
                                               "legitimation, esteem (Finnemore & Sikkink)."),
                "prestige": _rate(0.03, "Pull of prestige and status incentives "
                                  "(002:739–744, 002:954–957)."),
                "resistance": _rate(0.15, "Push of the core norms against the new norm "
                                    "(002:888–891)."),
                "regime_fear": _rate(0.5, "Weight of regime insecurity in the clash with "
                                     "non-interference (001:1 c.2126)."),
                "crisis_response": _rate(0.1, "Pull of crisis salience (002:744–750)."),
                "un_response": _rate(0.03, "Pull of UN partnership: a force to support the "
                                     "UN (002:733–735); the UN as trust broker (000:171)."),
                "rivalry_response": _rate(0.05, "Pull of great-power rivalry (004:1074)."),
                "identity_drift": _prob(0.03, "Yearly drift of core norms towards the "
                                        "identity implied by the state's stage."),
                "noise": _prob(0.03, "Standard deviation of yearly support noise."),
                "threshold_sd": _prob(0.05, "Per-replicate uncertainty of thresholds (sd)."),
                "reversal_margin": _prob(0.1, "An adopter reverts below threshold minus this."),
                "internalization_years": Num(10, 1, 500, "Years of adoption until a state "
                                             "internalizes the norm.", integer=True),
                "experience_years": Num(10, 1, 200, "Years of UN deployments until full "
                                        "peacekeeping experience (004:844–846).",
                                        integer=True),
                "receptivity_floor": _prob(0.3, "Receptivity to persuasion of a state "
                                           "without peacekeeping experience (004:844)."),
                "salience_half_life": Section(
                    {
                        "crisis": Num(2.0, 0.0, None, "Half-life of crisis salience (years); "
                                      "null = no decay.", nullable=True, lo_open=True),
                        "un_partnership": Num(3.0, 0.0, None, "Half-life of UN pushes.",
                                              nullable=True, lo_open=True),
                        "rivalry": Num(None, 0.0, None, "Half-life of rivalry salience.",
                                       nullable=True, lo_open=True),
                    },
                    "Decay of event salience.",
                ),
            },
            "Weights of the mechanisms of the support update.",
        ),
        "salience": Section(
            {
                "crisis": _rate(0.0, "Crisis salience at the start."),
                "un_partnership": _rate(0.0, "UN-partnership salience at the start."),
                "rivalry": _rate(0.0, "Great-power rivalry salience at the start."),
            },
            "Initial salience of the exogenous channels.",
        ),
        "network": Section(
            {
                "base": _prob(0.3, "Tie weight between any two members: low trust (000:171).",
                              "000:171"),
                "same_cohort": Num(0.1, -1.0, 1.0, "Added to ties within a cohort "
                                   "(002:97–103)."),
                "same_subregion": Num(0.1, -1.0, 1.0, "Added to ties within a subregion."),
                "pairs": ListOf(
                    Section(
                        {"states": ListOf(Code("A state of the pair."),
                                          "The two states of the pair.", length=2),
                         "change": Num(0.0, -1.0, 1.0, "Added to this pair's tie.")},
                        required=("states", "change"),
                    ),
                    "Pair-specific changes (disputes, partnerships).",
                ),
            },
            "The weighted interaction network (ties clipped to [0.01, 1]).",
        ),
        "states": StateMap(STATE, "The member states, keyed by ISO-3 code."),
        "entrepreneurs": StateMap(ENTREPRENEUR, "Norm entrepreneurs, keyed by state code.",
                                  defined_codes=True),
        "events": ListOf(EVENT, "Scheduled events."),
    },
    "An ASEAN-style norm-diffusion scenario.",
    required=("start_year", "end_year", "states"),
)

THRESHOLD = Section(
    {
        "kind": Choice(("threshold",), "threshold", "Scenario kind."),
        "name": Text(None, "Scenario name (defaults to the file name)."),
        "description": Text("", "What the scenario represents."),
        "network": Checked("A generator (erdos_renyi, complete, ring_lattice, "
                           "watts_strogatz, barabasi_albert) with n and its keys, or an "
                           "edge-list file with n.", form="generator: NAME, n, ... | file, n"),
        "threshold": Checked("Fractional thresholds: adopt when the weighted share of "
                             "adopting neighbours >= threshold (Granovetter 1978; Watts 2002).",
                             form="a number, or distribution: constant|uniform|normal|values"),
        "absolute_threshold": Checked("Instead of threshold: a count of adopting neighbours "
                                      "(complex contagion, Centola & Macy 2007).",
                                      form="a number, or distribution: ..."),
        "initial_adopters": Checked("The seed of the cascade.",
                                    form="one of random: K, share: f, nodes: [ids]"),
        "steps": Num(1000, 0, 10**7, "Step limit; a run stops early at a fixed point.",
                     "scenario", integer=True),
        "tipping_share": Num(1 / 3, 0.0, 1.0, "A run counts as a cascade when its adopter "
                             "share reaches this (1: every node).", "002:281–283",
                             lo_open=True),
        "record_agents": Flag(False, "Write the per-agent table (adoption step of every "
                              "node; large for large n)."),
    },
    "A generic threshold-diffusion scenario on any network.",
    required=("network", "initial_adopters"),
)

SCHEMAS: dict[str, Section] = {"asean": ASEAN, "threshold": THRESHOLD}


# --------------------------------------------------------------------------- validation


@dataclass
class _Context:
    problems: list[Problem] = field(default_factory=list)
    codes: tuple[str, ...] = ()

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path or "(top level)", message))


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _type_name(value: Any) -> str:
    return {bool: "true/false", str: "text", list: "a list", dict: "a mapping"}.get(
        type(value), type(value).__name__
    )


def _finite(value: float) -> bool:
    """Whether a number is finite as a float (neither nan, nor inf, nor a too-large int)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _short(value: Any) -> str:
    """``repr`` of a value, cut short when very long (an integer of a thousand digits)."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"


def _validate(spec: Spec, value: Any, path: str, ctx: _Context) -> Any:
    """Return ``value`` with defaults filled in; record every problem in ``ctx``."""
    match spec:
        case Num():
            if value is None:
                if not spec.nullable:
                    ctx.fail(path, f"null is not allowed; allowed: {spec.allowed()}")
                return None
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            if is_number and not (spec.integer and isinstance(value, int)) and not _finite(value):
                ctx.fail(path, f"{_short(value)} is not a finite number; allowed: "
                         f"{spec.allowed()}")
                return spec.default
            if not is_number or (spec.integer and isinstance(value, float)
                                 and not value.is_integer()):
                ctx.fail(path, f"expected {spec.allowed()}, got {_type_name(value)} {value!r}")
                return spec.default
            too_low = spec.lo is not None and (
                value <= spec.lo if spec.lo_open else value < spec.lo
            )
            too_high = spec.hi is not None and value > spec.hi
            if too_low or too_high:
                ctx.fail(path, f"{_short(value)} is out of range; allowed: {spec.allowed()}")
                return spec.default
            return int(value) if spec.integer else float(value)
        case Choice():
            if not isinstance(value, str) or value not in spec.options:
                ctx.fail(path, f"{value!r} is not allowed; allowed: {spec.allowed()}")
                return spec.default
            return value
        case Text():
            if not isinstance(value, str):
                ctx.fail(path, f"expected text, got {_type_name(value)} {value!r}")
                return spec.default
            return value
        case Flag():
            if not isinstance(value, bool):
                ctx.fail(path, f"expected true or false, got {_type_name(value)} {value!r}")
                return spec.default
            return value
        case Checked():
            return value
        case Code():
            if value not in ctx.codes:
                known = ", ".join(ctx.codes) or "none"
                ctx.fail(path, f"unknown state code {value!r}; defined under states: {known}")
            return value
        case Section():
            return _validate_section(spec, value, path, ctx)
        case StateMap():
            if not isinstance(value, dict):
                ctx.fail(path, f"expected a mapping of state codes, got {_type_name(value)}")
                return {}
            out = {}
            for code, item in value.items():
                if not isinstance(code, str) or not STATE_CODE.match(code):
                    ctx.fail(_join(path, str(code)), "a state code must be three capital "
                             "letters (ISO-3, e.g. IDN)")
                    continue
                if spec.defined_codes and code not in ctx.codes:
                    known = ", ".join(ctx.codes)
                    ctx.fail(_join(path, code),
                             f"unknown state code {code!r}; defined under states: {known}")
                    continue
                out[code] = _validate(spec.value, {} if item is None else item,
                                      _join(path, code), ctx)
            return out
        case ListOf():
            if not isinstance(value, list):
                ctx.fail(path, f"expected a list, got {_type_name(value)} {value!r}")
                return []
            if spec.length is not None and len(value) != spec.length:
                ctx.fail(path, f"expected a list of {spec.length} items, got {len(value)}")
                return []
            return [_validate(spec.item, item, _join(path, i), ctx) for i, item in
                    enumerate(value)]
        case Tagged():
            if not isinstance(value, dict):
                ctx.fail(path, f"expected a mapping, got {_type_name(value)} {value!r}")
                return {}
            tag = value.get(spec.tag)
            if not isinstance(tag, str) or tag not in spec.variants:
                allowed = ", ".join(spec.variants)
                ctx.fail(_join(path, spec.tag), f"{tag!r} is not allowed; allowed: {allowed}")
                return {}
            rest = {k: v for k, v in value.items() if k != spec.tag}
            return {spec.tag: tag, **_validate(spec.variants[tag], rest, path, ctx)}
    raise TypeError(f"not a schema spec: {spec!r}")


def _validate_section(spec: Section, value: Any, path: str, ctx: _Context) -> dict:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        ctx.fail(path, f"expected a mapping, got {_type_name(value)} {value!r}")
        value = {}
    for key in value:
        if key not in spec.fields:
            ctx.fail(_join(path, str(key)), f"unknown key; allowed: {', '.join(spec.fields)}")
    out = {}
    for key, sub in spec.fields.items():
        where = _join(path, key)
        if key in value:
            out[key] = _validate(sub, value[key], where, ctx)
        elif key in spec.required:
            ctx.fail(where, f"missing; required: {_describe(sub)}")
        elif not isinstance(sub, Checked):  # an engine's spec stays absent when not given
            out[key] = _default(sub)
    return out


def _describe(spec: Spec) -> str:
    if isinstance(spec, Num | Choice | Text | Flag | Code | Checked):
        return f"{spec.allowed()} ({spec.doc})" if spec.doc else spec.allowed()
    return spec.doc or "a mapping"


def _default(spec: Spec) -> Any:
    match spec:
        case Section():
            return {k: _default(s) for k, s in spec.fields.items()}
        case StateMap():
            return {}
        case ListOf():
            return []
        case _:
            return spec.default


def _check_threshold(data: dict, ctx: _Context) -> None:
    """Let the threshold engine check the network, thresholds and initial adopters."""
    from normsim.threshold import validate_threshold_scenario

    if ("threshold" in data) == ("absolute_threshold" in data):
        ctx.fail("threshold", "give exactly one of threshold or absolute_threshold")
        return
    try:
        canonical = validate_threshold_scenario(data)
    except ValueError as err:
        path, _, message = str(err).partition(": ")
        ctx.fail(path, message or path)
        return
    _check_memory(canonical["network"], ctx)


_GIB = 2**30


def available_memory() -> int | None:
    """Bytes of memory this process may still use, or ``None`` if the system does not say.

    ``MemAvailable`` of ``/proc/meminfo`` (else the physical memory), capped by a cgroup
    limit when one is set (a container's share of the machine).
    """
    found: list[int] = []
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    if not found:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            found.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError):
            found.append(int(Path(limit).read_text().strip()))  # "max": no limit
    return min(found) if found else None


def _check_memory(network: dict, ctx: _Context) -> None:
    """Refuse a network whose graph and engine cannot fit in this machine's memory."""
    from normsim.networks import (
        NODE_BYTES,
        TIE_BYTES,
        build_bytes,
        expected_ties,
        network_bytes,
    )
    from normsim.threshold import AGENT_BYTES

    n = network["n"]
    running = network_bytes(network) + AGENT_BYTES * n
    needed = max(build_bytes(network), running)
    limit = available_memory()
    if limit is None or needed <= limit:
        return
    what = network.get("generator", "edge-list")
    ties = expected_ties(network)
    count = "" if ties is None else f"{ties:,} ties x {TIE_BYTES} B + "
    ctx.fail("network", f"a {what} network with n = {n:,} needs about {needed / _GIB:,.1f} "
             f"GiB of memory (the graph and engine alone {running / _GIB:,.1f} GiB: "
             f"{count}{n:,} nodes x {NODE_BYTES + AGENT_BYTES} B), more than the "
             f"{limit / _GIB:,.1f} GiB available here; allowed: a network that fits "
             "(fewer nodes or ties)")


def _check_consistency(data: dict, ctx: _Context) -> None:
    """Checks across keys that the per-key schema cannot see."""
    if data.get("kind") == "threshold":
        _check_threshold(data, ctx)
        return
    start, end = data.get("start_year"), data.get("end_year")
    if isinstance(start, int) and isinstance(end, int):
        if end <= start:
            ctx.fail("end_year", f"{end} must be after start_year ({start})")
        for i, event in enumerate(data.get("events", [])):
            year = event.get("year")
            if isinstance(year, int) and year <= start:
                ctx.fail(f"events[{i}].year", f"{year} must be after start_year ({start})")
        for code, role in data.get("entrepreneurs", {}).items():
            first, last = role.get("from"), role.get("until")
            if isinstance(first, int) and isinstance(last, int) and last < first:
                ctx.fail(f"entrepreneurs.{code}.until", f"{last} is before from ({first})")
    states = data.get("states")
    if states == {}:
        ctx.fail("states", "at least one state is required")
    elif isinstance(states, dict) and not any(
            isinstance(s.get("tipping_weight"), float) and s["tipping_weight"] > 0
            for s in states.values()):
        ctx.fail("states", "every tipping_weight is 0, so the region could never tip; "
                 "allowed: at least one state with tipping_weight > 0")


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: its data with every default filled in, and its origin.

    Attributes:
        name: the scenario's name.
        data: the validated data, defaults filled in.
        source: the file it came from ("<memory>" for a dict).
        text: the text of the file and of any files it extends, for the metadata record.
    """

    name: str
    data: dict[str, Any]
    source: str = "<memory>"
    text: str = ""

    @property
    def kind(self) -> str:
        """The scenario kind (``asean`` or ``threshold``)."""
        return self.data["kind"]

    @property
    def steps(self) -> int:
        """Number of steps: end_year - start_year (ASEAN), or the step limit (threshold)."""
        if self.kind == "threshold":
            return self.data["steps"]
        return self.data["end_year"] - self.data["start_year"]

    @property
    def start_year(self) -> int:
        """The year of step 0 (0 for a threshold scenario, whose steps are not years)."""
        return self.data.get("start_year", 0)

    @property
    def codes(self) -> tuple[str, ...]:
        """The state codes, in the order of every state axis (ASEAN scenarios)."""
        return tuple(self.data.get("states", ()))

    @property
    def digest(self) -> str:
        """SHA-256 of the validated data: equal digests, equal model."""
        canonical = json.dumps(self.data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def with_overrides(self, overrides: Mapping[str, Any]) -> Scenario:
        """A new scenario with dotted-key overrides (``region.tipping_share``) applied."""
        raw = json.loads(json.dumps(self.data))
        for key, value in overrides.items():
            _set_path(raw, key, value)
        return replace(self, data=validate(raw, self.source))

    def with_steps(self, steps: int) -> Scenario:
        """The scenario run for ``steps`` steps, within the schema's limits.

        An ASEAN scenario's horizon becomes ``end_year = start_year + steps``; a threshold
        scenario's step limit becomes ``steps``. Either is an override validated like the
        file itself, so the year cap applies and the resolved scenario says what runs.

        Raises:
            ScenarioError: when the horizon is beyond the schema's limits.
        """
        if self.kind == "threshold":
            key, value = "steps", steps
            cap = THRESHOLD.fields["steps"].hi
        else:
            key, value = "end_year", self.start_year + steps
            cap = ASEAN.fields["end_year"].hi - self.start_year
        try:
            return self.with_overrides({key: value})
        except ScenarioError as err:
            note = f" (asked for {steps:,} steps; at most {int(cap):,} from this scenario)"
            raise ScenarioError(err.file, [replace(p, message=p.message + note)
                                           for p in err.problems]) from None


def shipped_names(kind: FileKind = "scenario") -> tuple[str, ...]:
    """The names of the scenario (or sweep) files shipped with normsim, sorted.

    Args:
        kind: ``scenario`` (``asean-2024``, ``threshold/watts-2002``: every YAML file outside
            ``sweeps/``) or ``sweep`` (``asean-levers``: the files in ``sweeps/``).

    Returns:
        Names as :func:`resolve_path` takes them: relative, ``/``-separated, without ``.yaml``.
    """
    root = SCENARIO_DIR / SHIPPED_FOLDER[kind]
    files = (f.relative_to(root) for f in root.rglob("*.yaml"))
    return tuple(sorted(f.with_suffix("").as_posix() for f in files
                        if kind == "sweep" or f.parts[0] != SHIPPED_FOLDER["sweep"]))


def resolve_path(name: str | Path, kind: FileKind = "scenario", *,
                 relative_to: Path | None = None) -> Path:
    """Find a scenario or sweep file: the one resolver of the CLI, models, viz and files.

    ``name`` is first a path, relative to ``relative_to`` (default: the current folder):
    an existing file is returned as it is. Otherwise it is the name of a file shipped with
    normsim (:func:`shipped_names`), found through :mod:`importlib.resources` from any
    folder: ``asean-2024`` or ``threshold/watts-2002.yaml`` for a scenario, ``asean-levers``
    for a sweep (in ``sweeps/``); ``.yaml`` may be left off.

    Args:
        name: a path or a shipped name.
        kind: what is looked for: a ``scenario`` or a ``sweep`` file.
        relative_to: the folder a relative path starts from (the including file's folder for
            ``extends:`` and a sweep's ``scenario:``).

    Returns:
        The path of the file.

    Raises:
        ScenarioError: ``name`` is a folder, or neither a file nor a shipped name; the
            message lists what would do.
    """
    path = Path(name)
    given = path if relative_to is None else relative_to / path
    if given.is_file():
        return given
    shipped = SCENARIO_DIR / SHIPPED_FOLDER[kind] / path
    if not given.is_dir() and not path.is_absolute():
        for candidate in (shipped, shipped.with_name(f"{shipped.name}.yaml")):
            if candidate.is_file():
                return candidate
    folder = given if given.is_dir() else shipped if shipped.is_dir() else None
    if folder is not None:  # name what would do: its files, as paths or as shipped names
        inside = [str(path / f.name) if folder is given else (path / f.stem).as_posix()
                  for f in sorted(folder.glob("*.yaml"))]
        more = f" and {len(inside) - 6} more" if len(inside) > 6 else ""
        hint = (f"; YAML files in it: {', '.join(inside[:6])}{more}" if inside
                else f"; give the path of a {kind} YAML file")
        raise ScenarioError(str(name), [Problem("(file)", f"is a folder, not a {kind} "
                                                f"file{hint}")])
    names = ", ".join(shipped_names(kind))
    raise ScenarioError(str(name), [Problem("(file)", f"no such file; give a path to a {kind} "
                                            f"YAML file or a shipped {kind} name: {names}")])


# YAML 1.2 floats: 1e-2, 1E5 and .5 are numbers (YAML 1.1, PyYAML's default, reads the first
# two as text); ints, booleans and null resolve as before. Sexagesimal floats (1:30.5) go.
_FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+
    |[-+]?(?:[0-9][0-9_]*)\.[0-9_]*
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 float syntax (see :func:`read_yaml`)."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern]]]] = {
        first: [(tag, _FLOAT_12 if tag == _FLOAT_TAG else regexp) for tag, regexp in entries]
        for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


for _first in "-+0123456789.":
    _entries = YamlLoader.yaml_implicit_resolvers.setdefault(_first, [])
    if not any(tag == _FLOAT_TAG for tag, _ in _entries):
        _entries.insert(0, (_FLOAT_TAG, _FLOAT_12))


def _duplicate_keys(root: yaml.Node | None, loader: YamlLoader) -> list[Problem]:
    """Every key given twice in one mapping, with the lines of both (first one kept)."""
    problems: list[tuple[int, Problem]] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [] if root is None else [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:  # an alias: checked where its anchor is
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, _join(path, i)) for i, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                key = loader.construct_object(key_node)
                line = key_node.start_mark.line + 1
                where = _join(path, str(key))
                if key in first_line:
                    problems.append((line, Problem(
                        where, f"duplicate key {key!r}: given on line {first_line[key]} and "
                        f"again on line {line}; give each key once")))
                else:
                    first_line[key] = line
                stack.append((value_node, where))
    return [problem for _, problem in sorted(problems, key=lambda item: item[0])]


def read_yaml(path: Path) -> tuple[Any, str]:
    """Read a YAML file (scenario or sweep) and return its data and its text.

    YAML 1.2 float syntax: ``1e-2`` is a number, as a person writes it. A key given twice
    in one mapping is an error naming both lines (PyYAML would silently keep the last).

    Raises:
        ScenarioError: an unreadable file, invalid YAML or duplicate keys.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError(str(path), [Problem("(file)", f"cannot be read: {err}")]) from None
    try:
        loader = YamlLoader(text)  # its reader refuses unprintable characters at once
        try:
            root = loader.get_single_node()
            duplicates = _duplicate_keys(root, loader)
            data = None if root is None else loader.construct_document(root)
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(yaml)"
        reason = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ScenarioError(str(path), [Problem(where, f"invalid YAML: {reason}")]) from None
    if duplicates:
        raise ScenarioError(str(path), duplicates)
    return data, text


def _merge(base: Any, over: Any) -> Any:
    """Deep-merge mappings; anything else in ``over`` replaces ``base``."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = _merge(base.get(key), value) if key in base else value
        return merged
    return over


def _cycle(chain: tuple[Path, ...], again: Path) -> Problem:
    """The ``extends`` cycle that leads from ``chain``'s files back to ``again``."""
    loop = [*chain[chain.index(again):], again]
    names = [p.name for p in loop]
    if len(set(names)) < len(set(loop)):  # same name in different folders: full paths
        names = [str(p) for p in loop]
    if len(loop) == 2:
        return Problem("extends", f"circular: the file extends itself ({' -> '.join(names)})")
    return Problem("extends", f"circular: {' -> '.join(names)}; a file cannot extend a file "
                   "that extends it")


def _parse(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict, list[str]]:
    """Read a file and everything it extends; return the merged mapping and the texts.

    A file that extends another and gives no ``name`` of its own does not inherit the
    base's name: the loader names it after its file.
    """
    if path.resolve() in seen:
        raise ScenarioError(str(path), [_cycle(seen, path.resolve())])
    raw, text = read_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ScenarioError(str(path), [Problem("(top level)", "expected a mapping of keys, "
                                                f"got {_type_name(raw)}")])
    base_name = raw.pop("extends", None)
    if base_name is None:
        return raw, [f"# {path.name}\n{text}"]
    if not isinstance(base_name, str):
        raise ScenarioError(str(path), [Problem("extends", "expected a file name")])
    try:  # a file relative to this one, else a shipped scenario name
        base_path = resolve_path(base_name, relative_to=path.parent)
    except ScenarioError as err:
        message = err.problems[0].message
        raise ScenarioError(str(path), [Problem("extends", f"{base_name}: {message}")]) from None
    base, texts = _parse(base_path, (*seen, path.resolve()))
    if "name" not in raw:
        base.pop("name", None)
    return _merge(base, raw), [*texts, f"# {path.name}\n{text}"]


def _set_path(data: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node: Any = data
    for key in keys[:-1]:
        index: Any = int(key) if isinstance(node, list) and key.isdigit() else key
        node = node.setdefault(index, {}) if isinstance(node, dict) else node[index]
    last = keys[-1]
    if isinstance(node, list) and last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


def validate(raw: Any, file: str = "<memory>") -> dict[str, Any]:
    """Fill defaults and validate; raise :class:`ScenarioError` listing every problem."""
    ctx = _Context()
    if not isinstance(raw, dict):
        ctx.fail("", f"expected a mapping of keys, got {_type_name(raw)}")
        raise ScenarioError(file, ctx.problems)
    kind = raw.get("kind", "asean")
    if kind not in SCHEMAS:
        ctx.fail("kind", f"{kind!r} is not allowed; allowed: {', '.join(SCHEMAS)}")
        raise ScenarioError(file, ctx.problems)
    states = raw.get("states")
    if isinstance(states, dict):
        ctx.codes = tuple(c for c in states if isinstance(c, str) and STATE_CODE.match(c))
    data = _validate(SCHEMAS[kind], raw, "", ctx)
    _check_consistency(data, ctx)
    if ctx.problems:
        raise ScenarioError(file, ctx.problems)
    return data


def load_scenario(name: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load a scenario file: parse, merge what it extends, apply overrides, validate.

    The scenario's name is the file's own ``name`` key, else the file's stem (never the
    name of a file it extends).
    """
    path = resolve_path(name)
    raw, texts = _parse(path)
    if raw.get("name") is None:
        raw["name"] = path.stem
    for key, value in (overrides or {}).items():
        _set_path(raw, key, value)
    data = validate(raw, str(path))
    return Scenario(data.get("name") or path.stem, data, str(path), "\n".join(texts))


def from_dict(raw: Mapping[str, Any], name: str = "scenario") -> Scenario:
    """Validate a scenario given as a mapping (tests, notebooks, sweeps)."""
    data = validate(json.loads(json.dumps(raw)))
    return Scenario(data.get("name") or name, data)


# --------------------------------------------------------------------------- levers


LEVERS: dict[str, str] = {
    "framing": "norm framing: standard or localized (norm localization, Acharya 2004)",
    "entrepreneur_intensity": "yearly persuasion effort of every entrepreneur",
    "strategy": "whom every entrepreneur lobbies (all, receptive, central, hardliners, "
                "coalition)",
    "tipping_share": "adopter share at which the region tips (Finnemore & Sikkink 1998)",
    "co_entrepreneur": "ISO-3 code of a state that joins as co-entrepreneur, with the lead "
                       "entrepreneur's role, for the whole run",
    "crisis_year": "year of a regional crisis (a crisis event of default magnitude)",
    "un_push_year": "year of a UN partnership push (an un_push event of default magnitude)",
}
"""The flat levers of the ASEAN model and what each means; see :func:`lever_overrides`."""


def lever_overrides(
    scenario: Scenario,
    *,
    framing: str | None = None,
    entrepreneur_intensity: float | None = None,
    strategy: str | None = None,
    tipping_share: float | None = None,
    co_entrepreneur: str | None = None,
    crisis_year: int | None = None,
    un_push_year: int | None = None,
) -> dict[str, Any]:
    """Translate the flat levers (:data:`LEVERS`) into dotted-key scenario overrides.

    Used by the Mesa model's keyword parameters and by sweep files alike, so a lever means
    the same thing everywhere. ``None`` (or ``""`` for the co-entrepreneur) leaves the
    scenario as it is.

    Args:
        scenario: the scenario the levers act on.
        framing: ``standard`` or ``localized`` (norm localization, Acharya 2004).
        entrepreneur_intensity: yearly persuasion effort of every entrepreneur.
        strategy: whom every entrepreneur lobbies.
        tipping_share: adopter share at which the region tips into cascade.
        co_entrepreneur: a state that joins with the lead entrepreneur's role (Malaysia in
            2015, 002:729–735).
        crisis_year: year of a regional crisis: salience pulse (East Timor 1999, 002:641).
        un_push_year: year of a UN partnership push (HIPPO 2015, 000:17).

    Returns:
        Overrides for :meth:`Scenario.with_overrides`.
    """
    data = scenario.data
    overrides: dict[str, Any] = {}
    if framing is not None:
        overrides["norm.framing"] = framing
    if tipping_share is not None:
        overrides["region.tipping_share"] = tipping_share
    entrepreneurs = dict(data["entrepreneurs"])
    if co_entrepreneur and co_entrepreneur not in entrepreneurs:
        lead = next(iter(entrepreneurs.values()), {})
        entrepreneurs[co_entrepreneur] = {**lead, "from": None, "until": None}
    for code in entrepreneurs:
        role = dict(entrepreneurs[code])
        if entrepreneur_intensity is not None:
            role["intensity"] = entrepreneur_intensity
        if strategy is not None:
            role["strategy"] = strategy
        entrepreneurs[code] = role
    if entrepreneurs != data["entrepreneurs"]:
        overrides["entrepreneurs"] = entrepreneurs
    extra = [{"type": kind, "year": year} for kind, year in
             (("crisis", crisis_year), ("un_push", un_push_year)) if year is not None]
    if extra:
        overrides["events"] = [*data["events"], *extra]
    return overrides


# --------------------------------------------------------------------------- build


def _tie_matrix(data: dict) -> np.ndarray:
    states, net = data["states"], data["network"]
    codes = list(states)
    n = len(codes)
    ties = np.full((n, n), net["base"])
    for key, bonus in (("cohort", net["same_cohort"]), ("subregion", net["same_subregion"])):
        group = [states[c][key] for c in codes]
        for i, j in np.ndindex(n, n):
            if group[i] and group[i] == group[j]:
                ties[i, j] += bonus
    for pair in net["pairs"]:
        i, j = (codes.index(c) for c in pair["states"])
        ties[i, j] += pair["change"]
        ties[j, i] += pair["change"] if i != j else 0.0
    np.clip(ties, 0.01, 1.0, out=ties)
    np.fill_diagonal(ties, 0.0)
    return ties


def _norm_vector(mapping: Mapping[str, float]) -> np.ndarray:
    return np.array([mapping[k] for k in NORM_KEYS], dtype=float)


def build_params(scenario: Scenario, steps: int | None = None) -> Params:
    """Turn a validated ASEAN scenario into the array form the update rule reads."""
    d = scenario.data
    states, dyn, region, norm = d["states"], d["dynamics"], d["region"], d["norm"]
    codes = tuple(states)
    index = {c: i for i, c in enumerate(codes)}
    start = d["start_year"]
    steps = scenario.steps if steps is None else steps

    def column(key: str) -> np.ndarray:
        return np.array([states[c][key] for c in codes], dtype=float)

    conflict = _norm_vector(norm["conflict"])
    appeal = 1.0
    if Framing(norm["framing"]) is Framing.LOCALIZED:
        reduction = _norm_vector(norm["localization"]["conflict_reduction"])
        non_interference = conflict[CoreNorm.NON_INTERFERENCE]
        conflict = conflict * (1.0 - reduction)
        appeal = norm["localization"]["appeal"]
        # A non-interventionist force under national command also eases regime fear.
        regime_scale = conflict[CoreNorm.NON_INTERFERENCE] / non_interference if (
            non_interference > 0) else 0.0
    else:
        regime_scale = 1.0

    entrepreneurs = tuple(
        Entrepreneur(
            state=index[code],
            first_step=max(0, (role["from"] or start) - start),
            last_step=(role["until"] - start) if role["until"] is not None else 10**9,
            intensity=role["intensity"],
            strategy=Strategy(role["strategy"]),
            targets=role["targets"],
            credibility=role["credibility"],
        )
        for code, role in d["entrepreneurs"].items()
    )
    events: dict[int, list[Event]] = {}
    for ev in d["events"]:
        kind = ev["type"]
        value = ev.get("magnitude", ev.get("regime_insecurity", ev.get("tie_change", 0.0)))
        who = ev.get("state", ev.get("by"))
        events.setdefault(ev["year"] - start, []).append(
            Event(kind, float(value), index[who] if who else -1)
        )
    half_lives = dyn["salience_half_life"]
    decay = np.array([1.0 if half_lives[k] is None else 0.5 ** (1.0 / half_lives[k])
                      for k in ("crisis", "un_partnership", "rivalry")])
    first = np.array([np.inf if states[c]["first_deployment"] is None
                      else states[c]["first_deployment"] for c in codes])
    return Params(
        codes=codes,
        start_year=start,
        steps=steps,
        norms=np.array([_norm_vector(states[c]["norms"]) for c in codes]),
        conflict=conflict,
        regime_conflict=dyn["regime_fear"] * regime_scale,
        appeal=appeal,
        support=column("support"),
        threshold=column("threshold"),
        tipping_weight=column("tipping_weight"),
        regime_insecurity=column("regime_insecurity"),
        prestige_motive=column("prestige_motive"),
        first_deployment=first,
        ties=_tie_matrix(d),
        entrepreneurs=entrepreneurs,
        events={k: tuple(v) for k, v in events.items()},
        salience=np.array([d["salience"][k] for k in ("crisis", "un_partnership", "rivalry")]),
        salience_decay=decay,
        neighbour_influence=dyn["neighbour_influence"],
        cascade_socialization=dyn["cascade_socialization"],
        prestige=dyn["prestige"],
        resistance=dyn["resistance"],
        crisis_response=dyn["crisis_response"],
        un_response=dyn["un_response"],
        rivalry_response=dyn["rivalry_response"],
        identity_drift=dyn["identity_drift"],
        noise=dyn["noise"],
        threshold_sd=dyn["threshold_sd"],
        reversal_margin=dyn["reversal_margin"],
        internalization_years=dyn["internalization_years"],
        experience_years=dyn["experience_years"],
        receptivity_floor=dyn["receptivity_floor"],
        tipping_share=region["tipping_share"],
        internalization_share=region["internalization_share"],
        summit_interval=region["summit_interval"],
        max_blockers=region["max_blockers"],
        acquiescence_margin=region["acquiescence_margin"],
        table_when_tipped=region["table_when_tipped"],
        retable_interval=region["retable_interval"],
    )


# --------------------------------------------------------------------------- docs


def parameter_rows(spec: Spec = ASEAN, path: str = "") -> Iterator[tuple[str, ...]]:
    """(key, allowed, default, meaning, source) for every leaf of the schema."""
    match spec:
        case Section():
            for key, sub in spec.fields.items():
                yield from parameter_rows(sub, _join(path, key))
        case StateMap():
            yield from parameter_rows(spec.value, f"{path}.<CODE>")
        case ListOf() if isinstance(spec.item, Section | Tagged):
            yield from parameter_rows(spec.item, f"{path}[]")
        case ListOf():
            yield path, f"list of {spec.length or 'any number of'} {spec.item.allowed()}", "", \
                spec.doc, ""
        case Tagged():
            for tag, section in spec.variants.items():
                yield from parameter_rows(section, f"{path}({spec.tag}: {tag})")
        case _:
            default = "—" if spec.default is None else (
                f"{spec.default:.4g}" if isinstance(spec.default, float) else str(spec.default))
            yield path, spec.allowed(), default, spec.doc, getattr(spec, "source", "")


def parameter_table(spec: Spec = ASEAN) -> str:
    """The schema as a Markdown table, for ``docs/ODD.md``."""
    lines = ["| key | allowed | default | meaning | source |", "|---|---|---|---|---|"]
    for row in parameter_rows(spec):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


def _main(argv: list[str] | None = None, out: Callable[[str], Any] = print) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Print the scenario parameter table.")
    parser.add_argument("--markdown", action="store_true", help="as a Markdown table")
    parser.parse_args(argv)
    out(parameter_table())


if __name__ == "__main__":
    _main()
