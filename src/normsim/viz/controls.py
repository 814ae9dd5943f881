"""The page's controls and the model they build: every value checked, never an exception.

SolaraViz's Reset calls ``type(model)(**values)`` with the sidebar's values. The page's
model is :class:`PageModel`, the :class:`~normsim.models.region.model.AseanModel` with the
same keyword signature, which turns the controls' values into levers first: "as in
scenario" and "none" become the model's ``None`` and ``""``, the seed text becomes an int,
years outside the run mean no event, and anything the scenario rejects is dropped with a
note. The notes are shown on the page (``model.notes``), so an invalid value is refused
with a message, never a traceback.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from normsim.models.region.model import DEFAULT_SCENARIO, AseanModel
from normsim.models.region.norms import Framing, Strategy
from normsim.models.region.schema import lever_overrides
from normsim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    shipped_names,
)

SCENARIO_ENV = "NORMSIM_SCENARIO"
"""Environment variable naming the scenario the page opens with (``normsim viz``)."""

AS_SCENARIO = "as in scenario"
"""Select value meaning: keep the scenario file's value (the model's ``None``)."""
NO_STATE = "none"
"""Select value meaning: no co-entrepreneur (the model's ``""``)."""
DEFAULT_SEED = 0
"""Seed used when the seed field is empty or not a whole number >= 0."""

INTENSITY_RANGE = (0.0, 2.0)
"""Range of the entrepreneur-intensity slider (the schema allows 0–5)."""
TIPPING_RANGE = (0.05, 1.0)
"""Range of the tipping-share slider (the schema allows any share > 0)."""


@dataclass(frozen=True)
class Catalog:
    """What the controls offer, read once from the scenario files.

    Attributes:
        names: scenario names for the selector (the shipped ASEAN scenarios and the launch
            one).
        default: the scenario the page opens with.
        codes: state codes of the default scenario (co-entrepreneur choices).
        intensity: the default scenario's lead entrepreneur's intensity.
        tipping_share: the default scenario's tipping share.
        first_year: earliest start year over the scenarios: "no event" on the year sliders.
        last_year: latest end year over the scenarios.
    """

    names: tuple[str, ...]
    default: str
    codes: tuple[str, ...]
    intensity: float
    tipping_share: float
    first_year: int
    last_year: int


def launch_scenario() -> str:
    """The scenario the page opens with: ``$NORMSIM_SCENARIO`` or the model's default."""
    return os.environ.get(SCENARIO_ENV, "").strip() or DEFAULT_SCENARIO


@functools.cache
def catalog(default: str) -> Catalog:
    """Read the scenario files once; files that do not load, or are not ASEAN, are left out.

    Args:
        default: the scenario the page opens with (a shipped name or a path).

    Returns:
        The catalog.
    """
    loaded = {name: _asean(name) for name in shipped_names()}
    loaded = {name: scenario for name, scenario in loaded.items() if scenario is not None}
    first = loaded.get(default) or _asean(default)
    if first is None:
        default = DEFAULT_SCENARIO if DEFAULT_SCENARIO in loaded else next(iter(loaded))
        first = loaded[default]
    loaded.setdefault(default, first)
    roles = list(first.data["entrepreneurs"].values())
    return Catalog(
        names=tuple(loaded),
        default=default,
        codes=first.codes,
        intensity=float(roles[0]["intensity"]) if roles else 0.0,
        tipping_share=float(first.data["region"]["tipping_share"]),
        first_year=min(s.data["start_year"] for s in loaded.values()),
        last_year=max(s.data["end_year"] for s in loaded.values()),
    )


def _asean(name: str | Path) -> Scenario | None:
    """The ASEAN scenario of that name or file, or None if it does not load or is another kind."""
    try:
        scenario = load_scenario(name)
    except ScenarioError:
        return None
    return scenario if scenario.kind == "asean" else None


def model_params(default: str | None = None) -> dict[str, Any]:
    """The sidebar's controls, keyed by the parameters of :class:`AseanModel`.

    Args:
        default: the scenario to open with (default: :func:`launch_scenario`).

    Returns:
        SolaraViz ``model_params``: Selects, sliders and the seed field.
    """
    cat = catalog(default or launch_scenario())
    no_event = f"({cat.first_year} = none)"
    return {
        "scenario": {
            "type": "Select",
            "label": "Scenario",
            "value": cat.default,
            "values": list(cat.names),
        },
        "framing": {
            "type": "Select",
            "label": "Framing (Acharya's localization)",
            "value": AS_SCENARIO,
            "values": [AS_SCENARIO, *(f.value for f in Framing)],
        },
        "entrepreneur_intensity": {
            "type": "SliderFloat",
            "label": "Entrepreneur intensity",
            "value": cat.intensity,
            "min": INTENSITY_RANGE[0],
            "max": INTENSITY_RANGE[1],
            "step": 0.05,
        },
        "strategy": {
            "type": "Select",
            "label": "Lobbying strategy",
            "value": AS_SCENARIO,
            "values": [AS_SCENARIO, *(s.value for s in Strategy)],
        },
        "co_entrepreneur": {
            "type": "Select",
            "label": "Co-entrepreneur",
            "value": NO_STATE,
            "values": [NO_STATE, *cat.codes],
        },
        "tipping_share": {
            "type": "SliderFloat",
            "label": "Tipping share",
            "value": cat.tipping_share,
            "min": TIPPING_RANGE[0],
            "max": TIPPING_RANGE[1],
            "step": 0.01,
        },
        "crisis_year": {
            "type": "SliderInt",
            "label": f"Crisis year {no_event}",
            "value": cat.first_year,
            "min": cat.first_year,
            "max": cat.last_year,
            "step": 1,
        },
        "un_push_year": {
            "type": "SliderInt",
            "label": f"UN push year {no_event}",
            "value": cat.first_year,
            "min": cat.first_year,
            "max": cat.last_year,
            "step": 1,
        },
        "rng": {
            "type": "InputText",
            "label": "Seed (whole number; Enter, then Reset)",
            "value": str(DEFAULT_SEED),
        },
    }


class PageModel(AseanModel):
    """The model as the page builds it: control values checked, refused ones noted.

    Same parameters as :class:`~normsim.models.region.model.AseanModel`, which they are passed on to
    after checking; the sentinels :data:`AS_SCENARIO` and :data:`NO_STATE` are accepted.

    Attributes:
        notes: one line per refused or adjusted control value, for the page.
        scenario_name: the scenario the run uses.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario = DEFAULT_SCENARIO,
        *,
        framing: str | None = None,
        entrepreneur_intensity: float | None = None,
        strategy: str | None = None,
        tipping_share: float | None = None,
        co_entrepreneur: str = "",
        crisis_year: int | None = None,
        un_push_year: int | None = None,
        steps: int | None = None,
        rng: int | str | None = None,
    ):
        notes: list[str] = []
        seed = _seed(rng, notes)
        base = _scenario(scenario, notes)
        start, end = base.data["start_year"], base.data["end_year"]
        levers = {
            "framing": _choice("framing", framing, [f.value for f in Framing], notes),
            "entrepreneur_intensity": _number(
                "entrepreneur intensity", entrepreneur_intensity, (0.0, 5.0), notes
            ),
            "strategy": _choice("strategy", strategy, [s.value for s in Strategy], notes),
            "tipping_share": _number("tipping share", tipping_share, TIPPING_RANGE, notes),
            "co_entrepreneur": _code(co_entrepreneur, base.codes, notes),
            "crisis_year": _year("crisis", crisis_year, start, end, notes),
            "un_push_year": _year("UN push", un_push_year, start, end, notes),
        }
        try:
            chosen = base.with_overrides(lever_overrides(base, **levers))
        except ScenarioError as err:
            notes.append(f"levers refused, scenario run as written: {err.problems[0].message}")
            chosen = base
        if steps is not None and not (isinstance(steps, int) and steps >= 0):
            notes.append(f"steps {steps!r} is not a whole number >= 0; ran to the end year")
            steps = None
        super().__init__(chosen, steps=steps, rng=seed)
        self.notes: list[str] = notes
        self.scenario_name: str = chosen.name


def _seed(value: Any, notes: list[str]) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    text = str(value).strip()
    if text.isascii() and text.isdigit():
        return int(text)
    notes.append(f"seed {text!r} is not a whole number >= 0; used {DEFAULT_SEED}")
    return DEFAULT_SEED


def _scenario(value: Any, notes: list[str]) -> Scenario:
    try:
        scenario = value if isinstance(value, Scenario) else load_scenario(str(value))
    except ScenarioError as err:
        problem = err.problems[0].message
    else:
        if scenario.kind == "asean":
            return scenario
        problem = f"a {scenario.kind} scenario; the page shows ASEAN scenarios"
    fallback = catalog(launch_scenario()).default
    notes.append(f"scenario {value!r} cannot be used ({problem}); ran {fallback}")
    return load_scenario(fallback)


def _choice(name: str, value: Any, allowed: list[str], notes: list[str]) -> str | None:
    if value is None or value == AS_SCENARIO:
        return None
    if value in allowed:
        return str(value)
    notes.append(f"{name} {value!r} is not one of {', '.join(allowed)}; kept the scenario's")
    return None


def _number(name: str, value: Any, bounds: tuple[float, float], notes: list[str]) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        notes.append(f"{name} {value!r} is not a number; kept the scenario's")
        return None
    if not math.isfinite(number):
        notes.append(f"{name} {value!r} is not a finite number; kept the scenario's")
        return None
    lo, hi = bounds
    if not lo <= number <= hi:
        clamped = min(max(number, lo), hi)
        notes.append(f"{name} {number:g} is outside {lo:g}–{hi:g}; used {clamped:g}")
        return clamped
    return number


def _code(value: Any, codes: tuple[str, ...], notes: list[str]) -> str:
    if value in (None, "", NO_STATE):
        return ""
    if value in codes:
        return str(value)
    notes.append(f"co-entrepreneur {value!r} is not a state of this scenario; none added")
    return ""


def _year(name: str, value: Any, start: int, end: int, notes: list[str]) -> int | None:
    if value is None:
        return None
    try:
        year = int(value)
    except (TypeError, ValueError):
        notes.append(f"{name} year {value!r} is not a year; no {name}")
        return None
    if start < year <= end:
        return year
    if year > catalog(launch_scenario()).first_year:
        notes.append(f"{name} year {year} is outside this run ({start + 1}–{end}); no {name}")
    return None
