"""The page's controls and the model they build: every value checked, never an exception.

SolaraViz's Reset calls ``type(model)(**values)`` with the sidebar's values. The page's
model is :class:`PageModel`, the :class:`~normsim.models.region.model.RegionModel` with the
same keyword signature (copied from it, not written twice), which turns the controls' values
into levers first. The controls and their checks are derived from the kind's levers and the
schema entry of each (:func:`~normsim.models.region.schema.lever_spec`): a choice is a
Select of its options, a member code a Select of the scenario's members, a year a slider
over the scenarios' years, a number a slider. "as in
scenario" and "none" become the model's ``None`` and ``""``, the seed text becomes an int,
years outside the run mean no event, and anything the scenario rejects is dropped with a
note. The notes are shown on the page (``model.notes``), so an invalid value is refused
with a message, never a traceback.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from normsim.models.region import KIND
from normsim.models.region.model import DEFAULT_SCENARIO, RegionModel
from normsim.models.region.schema import LEVERS, lever_overrides, lever_spec
from normsim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    shipped_names,
)
from normsim.schema import Choice, Code, Num

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
SLIDER_RANGES: dict[str, tuple[float, float]] = {
    "entrepreneur_intensity": INTENSITY_RANGE,
    "tipping_share": TIPPING_RANGE,
}
"""Slider ranges narrower than the schema's; other numbers slide over the schema's range."""
ACCEPTED_RANGES: dict[str, tuple[float, float]] = {"tipping_share": TIPPING_RANGE}
"""Ranges a lever's value is clamped to; others are clamped to the schema's range."""
LABELS: dict[str, str] = {
    "framing": "Framing (Acharya's localization)",
    "strategy": "Lobbying strategy",
    "co_entrepreneur": "Co-entrepreneur",
    "un_push_year": "UN push year",
}
"""The sidebar's words for a lever, where its name spelled out would not do."""


def _label(lever: str) -> str:
    return LABELS.get(lever, lever.replace("_", " ").capitalize())


def _is_year(spec: object) -> bool:
    return isinstance(spec, Num) and spec.integer and spec.lo == 1900


@dataclass(frozen=True)
class Catalog:
    """What the controls offer, read once from the scenario files.

    Attributes:
        names: scenario names for the selector (the shipped regional scenarios and the launch
            one).
        default: the scenario the page opens with.
        codes: member codes of the default scenario (co-entrepreneur choices).
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
    """Read the scenario files once; files that do not load, or are another kind, are left out.

    Args:
        default: the scenario the page opens with (a shipped name or a path).

    Returns:
        The catalog.
    """
    loaded = {name: _regional(name) for name in shipped_names()}
    loaded = {name: scenario for name, scenario in loaded.items() if scenario is not None}
    first = loaded.get(default) or _regional(default)
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


def _regional(name: str | Path) -> Scenario | None:
    """The regional scenario of that name or file; None if it does not load or is another kind."""
    try:
        scenario = load_scenario(name)
    except ScenarioError:
        return None
    return scenario if scenario.kind == KIND.name else None


def model_params(default: str | None = None) -> dict[str, Any]:
    """The sidebar's controls, keyed by the parameters of :class:`RegionModel`.

    Args:
        default: the scenario to open with (default: :func:`launch_scenario`).

    Returns:
        SolaraViz ``model_params``: Selects, sliders and the seed field.
    """
    cat = catalog(default or launch_scenario())
    no_event = f"({cat.first_year} = none)"
    current = {"entrepreneur_intensity": cat.intensity, "tipping_share": cat.tipping_share}
    controls: dict[str, Any] = {
        "scenario": {
            "type": "Select",
            "label": "Scenario",
            "value": cat.default,
            "values": list(cat.names),
        },
    }
    for lever in LEVERS:
        spec = lever_spec(None, lever)
        label = _label(lever)
        if isinstance(spec, Choice):
            control = {"type": "Select", "value": AS_SCENARIO,
                       "values": [AS_SCENARIO, *spec.options]}
        elif isinstance(spec, Code):
            control = {"type": "Select", "value": NO_STATE, "values": [NO_STATE, *cat.codes]}
        elif _is_year(spec):
            label = f"{label} {no_event}"
            control = {"type": "SliderInt", "value": cat.first_year, "min": cat.first_year,
                       "max": cat.last_year, "step": 1}
        elif isinstance(spec, Num):
            lo, hi = SLIDER_RANGES.get(lever, (spec.lo or 0.0, spec.hi or 1.0))
            control = {"type": "SliderFloat", "value": current.get(lever, spec.default),
                       "min": lo, "max": hi, "step": 0.05 if hi - lo > 1 else 0.01}
        else:
            continue
        controls[lever] = {"type": control.pop("type"), "label": label, **control}
    controls["rng"] = {
        "type": "InputText",
        "label": "Seed (whole number; Enter, then Reset)",
        "value": str(DEFAULT_SEED),
    }
    return controls


class PageModel(RegionModel):
    """The model as the page builds it: control values checked, refused ones noted.

    Same parameters as :class:`~normsim.models.region.model.RegionModel`, which they are passed
    on to after checking; the sentinels :data:`AS_SCENARIO` and :data:`NO_STATE` are accepted.

    Attributes:
        notes: one line per refused or adjusted control value, for the page.
        scenario_name: the scenario the run uses.
    """

    def __init__(
        self,
        scenario: str | Path | Scenario = DEFAULT_SCENARIO,
        *,
        steps: int | None = None,
        rng: int | str | None = None,
        **values: Any,
    ):
        notes: list[str] = []
        seed = _seed(rng, notes)
        base = _scenario(scenario, notes)
        levers = {lever: _lever(lever, values.pop(lever, None), base, notes) for lever in LEVERS}
        notes += [f"no control {name!r}; ignored" for name in values]
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


# The model's keyword signature, copied rather than written twice: SolaraViz and the tests
# read it, and a lever added to the model is a control and a checked value here.
PageModel.__init__.__signature__ = inspect.signature(RegionModel.__init__)  # type: ignore[attr-defined]


def _lever(lever: str, value: Any, base: Scenario, notes: list[str]) -> Any:
    """A control's value as the lever takes it, checked against the lever's schema entry."""
    spec = lever_spec(base, lever)
    name = lever.replace("_", " ").replace("un push", "UN push")  # for the notes
    start, end = base.data["start_year"], base.data["end_year"]
    if isinstance(spec, Choice):
        return _choice(name, value, list(spec.options), notes)
    if isinstance(spec, Code):
        return _code(value, base.codes, notes)
    if _is_year(spec):
        return _year(name.removesuffix(" year"), value, start, end, notes)
    if isinstance(spec, Num):
        bounds = ACCEPTED_RANGES.get(lever, (spec.lo or 0.0, spec.hi or math.inf))
        return _number(name, value, bounds, notes)
    return value


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
        if scenario.kind == KIND.name:
            return scenario
        problem = f"a {scenario.kind} scenario; the page shows {KIND.name} scenarios"
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
    notes.append(f"co-entrepreneur {value!r} is not a member of this scenario; none added")
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
