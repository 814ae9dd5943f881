"""The page's controls and the model they build: every value checked, never an exception.

The page's Reset builds ``PageModel(**values)`` from the sidebar's values, as SolaraViz's
would. :class:`PageModel` is the :class:`~normsim.models.region.model.RegionModel` with the
same keyword signature (copied from it, not written twice), which turns the controls' values
into levers first. The controls are derived from the kind's levers, the schema entry of
each (:func:`~normsim.models.region.schema.lever_spec`) and the chosen scenario
(:func:`lever_controls`): a choice is a Select of its options, a member code a Select of
the scenario's members, a year a Select of the scenario's years with an explicit "none", a
number a slider; each starts at the scenario's own setting. "as in scenario" and "none"
become the model's ``None`` and ``""``, the seed text becomes an int, years outside the run
mean no event, and anything the scenario rejects is dropped with a note. The notes are
shown on the page (``model.notes``), so an invalid value is refused with a message, never a
traceback.

Under a posterior (``normsim viz --posterior DIR``: ``$NORMSIM_POSTERIOR`` names the
calibration folder, ``$NORMSIM_DRAWS`` the number of draws), :func:`launch_draws` gives the
page's draws, drawn once with seed 0; the ensemble spreads its R runs over them, and the
single run uses draw ``seed % D``. Each draw's values are applied before the levers, so the
levers change the scenario under the drawn parameters.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from normsim.experiments.posterior import Draws

SCENARIO_ENV = "NORMSIM_SCENARIO"
"""Environment variable naming the scenario the page opens with (``normsim viz``)."""
POSTERIOR_ENV = "NORMSIM_POSTERIOR"
"""Environment variable naming the calibration folder of a posterior page (``--posterior``)."""
DRAWS_ENV = "NORMSIM_DRAWS"
"""Environment variable with the number of posterior draws (``--draws``; default 100)."""
DEFAULT_DRAWS = 100
"""Posterior draws of the page when ``$NORMSIM_DRAWS`` does not say."""

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
    """The scenarios the page offers, read once from the scenario files.

    Attributes:
        names: scenario names for the selector (the shipped regional scenarios and the launch
            one).
        default: the scenario the page opens with.
    """

    names: tuple[str, ...]
    default: str


def launch_scenario() -> str:
    """The scenario the page opens with: ``$NORMSIM_SCENARIO`` or the model's default."""
    return os.environ.get(SCENARIO_ENV, "").strip() or DEFAULT_SCENARIO


def launch_draws() -> Draws | None:
    """The page's posterior draws (``$NORMSIM_POSTERIOR``), or None for no posterior.

    Raises:
        PosteriorError: the folder holds no usable posterior (``normsim viz`` checks it
            before the server starts).
    """
    folder = os.environ.get(POSTERIOR_ENV, "").strip()
    if not folder:
        return None
    text = os.environ.get(DRAWS_ENV, "").strip()
    return _draws(folder, int(text) if text.isdigit() and int(text) > 0 else DEFAULT_DRAWS)


@functools.cache
def _draws(folder: str, draws: int) -> Draws:
    from normsim.experiments.posterior import load_posterior

    return load_posterior(folder).draw(draws, 0)


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
    return Catalog(names=tuple(loaded), default=default)


def _regional(name: str | Path) -> Scenario | None:
    """The regional scenario of that name or file; None if it does not load or is another kind."""
    try:
        scenario = load_scenario(name)
    except ScenarioError:
        return None
    return scenario if scenario.kind == KIND.name else None


def model_params(default: str | None = None) -> dict[str, Any]:
    """The sidebar's controls for a scenario, keyed by the parameters of :class:`RegionModel`.

    The controls follow the scenario: their values start at the scenario's own settings
    (its framing, its lead entrepreneur's intensity and strategy, its co-entrepreneur, its
    tipping share), the year menus span its horizon (the years after the start, to the end
    year) and offer an explicit "none".

    Args:
        default: the scenario (default: :func:`launch_scenario`); one that does not load
            falls back to the catalog's default.

    Returns:
        Control specifications: ``{"type": "Select", "values": [...]}``,
        ``{"type": "SliderFloat", "min": .., "max": .., "step": ..}`` or
        ``{"type": "InputText"}``, each with its ``label`` and ``value``.
    """
    cat = catalog(launch_scenario())
    scenario = _regional(default) if default else None
    if scenario is None:
        scenario = load_scenario(cat.default)
    name = default if default and _regional(default) is not None else cat.default
    names = list(cat.names) if name in cat.names else [*cat.names, name]
    controls: dict[str, Any] = {
        "scenario": {"type": "Select", "label": "Scenario", "value": name, "values": names},
    }
    controls.update(lever_controls(scenario))
    controls["rng"] = {
        "type": "InputText",
        "label": "Seed (whole number, Enter)",
        "value": str(DEFAULT_SEED),
    }
    return controls


def scenario_settings(scenario: Scenario) -> dict[str, Any]:
    """The scenario's own value of every lever, as the controls show it.

    Args:
        scenario: a regional scenario.

    Returns:
        Per lever: the framing, the lead entrepreneur's strategy (:data:`AS_SCENARIO` if
        the entrepreneurs differ) and intensity, the tipping share, the first member that
        is an entrepreneur besides the lead (or :data:`NO_STATE`), and :data:`NO_STATE` for
        the years (no added crisis or UN push).
    """
    data = scenario.data
    roles = list(data["entrepreneurs"].items())
    strategies = {role["strategy"] for _, role in roles}
    return {
        "framing": data["norm"]["framing"],
        "entrepreneur_intensity": float(roles[0][1]["intensity"]) if roles else 0.0,
        "strategy": strategies.pop() if len(strategies) == 1 else AS_SCENARIO,
        "tipping_share": float(data["region"]["tipping_share"]),
        "co_entrepreneur": roles[1][0] if len(roles) > 1 else NO_STATE,
        "crisis_year": NO_STATE,
        "un_push_year": NO_STATE,
    }


def lever_controls(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """The lever controls of one scenario, starting at its own settings.

    Args:
        scenario: a regional scenario.

    Returns:
        Control specifications keyed by lever (see :func:`model_params`).
    """
    data = scenario.data
    own = scenario_settings(scenario)
    start, end = data["start_year"], data["end_year"]
    roles = data["entrepreneurs"]
    controls: dict[str, dict[str, Any]] = {}
    for lever in LEVERS:
        spec = lever_spec(scenario, lever)
        label = _label(lever)
        if isinstance(spec, Choice):
            values = list(spec.options)
            if own[lever] == AS_SCENARIO:
                values.insert(0, AS_SCENARIO)
            control = {"type": "Select", "value": own[lever], "values": values}
        elif isinstance(spec, Code):
            lead = next(iter(roles), None)
            theirs = [code for code in roles if code != lead]
            others = [code for code in scenario.codes if code not in roles]
            # With a co-entrepreneur in the file, "none" cannot be had through the lever
            # (it only adds a member), so the file's own comes first and "none" is left out.
            values = [*theirs, *others] if theirs else [NO_STATE, *others]
            if theirs:
                spans = ", ".join(f"{c} {_span(roles[c], start, end)}" for c in theirs)
                label = f"{label} (scenario: {spans})"
            control = {"type": "Select", "value": own[lever], "values": values}
        elif _is_year(spec):
            kind = lever.removesuffix("_year")
            have = [str(e["year"]) for e in data["events"] if e["type"] == kind]
            label = f"{label}, added (scenario: {', '.join(have) or 'none'})"
            control = {"type": "Select", "value": NO_STATE,
                       "values": [NO_STATE, *(str(y) for y in range(start + 1, end + 1))]}
        elif isinstance(spec, Num):
            lo, hi = SLIDER_RANGES.get(lever, (spec.lo or 0.0, spec.hi or 1.0))
            value = min(max(own[lever], lo), hi)
            control = {"type": "SliderFloat", "value": value, "min": lo, "max": hi,
                       "step": 0.05 if hi - lo > 1 else 0.01}
        else:
            continue
        controls[lever] = {"type": control.pop("type"), "label": label, **control}
    return controls


def _near(value: Any, own: Any) -> bool:
    """Whether a slider's value is the scenario's, rounded to the slider's step (0.01).

    A slider snaps to its step (one-third shows, and comes back, as 0.33); that is still
    the scenario's own setting, not a lever moved.
    """
    numbers = (int, float)
    return (isinstance(value, numbers) and isinstance(own, numbers)
            and not isinstance(value, bool) and abs(value - own) < 0.005 + 1e-12)


def _span(role: dict[str, Any], start: int, end: int) -> str:
    first, last = role.get("from") or start, role.get("until") or end
    return str(first) if first == last else f"{first}–{last}"


def model_kwargs(scenario: Scenario, values: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :class:`PageModel` for the controls' values.

    A value equal to the scenario's own setting, and "none", leave the scenario as written
    (the model's ``None`` or ``""``), so the page's default run is the scenario's run.

    Args:
        scenario: the chosen scenario.
        values: the controls' values by lever (others are passed through).

    Returns:
        Keyword arguments for the model's levers.
    """
    own = scenario_settings(scenario)
    kwargs: dict[str, Any] = {}
    for lever, value in values.items():
        if lever not in own:
            kwargs[lever] = value
        elif lever == "co_entrepreneur":
            kwargs[lever] = NO_STATE if value == own[lever] else value
        elif value in (NO_STATE, AS_SCENARIO) or value == own[lever] or _near(value, own[lever]):
            kwargs[lever] = None
        elif lever.endswith("_year"):
            kwargs[lever] = int(value) if str(value).isdigit() else value
        else:
            kwargs[lever] = value
    return kwargs


class PageModel(RegionModel):
    """The model as the page builds it: control values checked, refused ones noted.

    Same parameters as :class:`~normsim.models.region.model.RegionModel`, which they are passed
    on to after checking; the sentinels :data:`AS_SCENARIO` and :data:`NO_STATE` are accepted.

    Attributes:
        notes: one line per refused or adjusted control value, for the page.
        scenario_name: the scenario the run uses.
        draw: under a posterior (:func:`launch_draws`), the draw the run uses (its values
            applied before the levers): ``seed % D``; None otherwise.
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
        draws, draw = launch_draws(), None
        if draws is not None:
            base = _scenario(scenario, notes)
            try:
                scenario = draws.apply(base, (seed or 0) % len(draws))
                draw = (seed or 0) % len(draws)
            except ScenarioError as err:
                notes.append(f"the posterior does not apply to {base.name} "
                             f"({err.problems[0].path}: {err.problems[0].message}); ran it "
                             "as written")
                scenario = base
        chosen = checked_scenario(scenario, notes, **values)
        if steps is not None and not (isinstance(steps, int) and steps >= 0):
            notes.append(f"steps {steps!r} is not a whole number >= 0; ran to the end year")
            steps = None
        super().__init__(chosen, steps=steps, rng=seed)
        self.draw: int | None = draw
        self.notes: list[str] = notes
        self.scenario_name: str = chosen.name


def checked_scenario(scenario: str | Path | Scenario, notes: list[str], **values: Any) -> Scenario:
    """The scenario with the controls' lever values applied, each checked first.

    What :class:`PageModel` runs, and what the page's ensemble runs R times.

    Args:
        scenario: a scenario name, file or object; one that cannot be used falls back to
            the catalog's default, with a note.
        notes: where a refused or adjusted value is noted.
        **values: lever values (the sentinels are accepted); others are noted and ignored.

    Returns:
        The scenario to run.
    """
    base = _scenario(scenario, notes)
    levers = {lever: _lever(lever, values.pop(lever, None), base, notes) for lever in LEVERS}
    notes += [f"no control {name!r}; ignored" for name in values]
    try:
        return base.with_overrides(lever_overrides(base, **levers))
    except ScenarioError as err:
        notes.append(f"levers refused, scenario run as written: {err.problems[0].message}")
        return base


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
    if value is None or value == NO_STATE:
        return None
    try:
        year = int(value)
    except (TypeError, ValueError):
        notes.append(f"{name} year {value!r} is not a year; no {name}")
        return None
    if start < year <= end:
        return year
    notes.append(f"{name} year {year} is outside this run ({start + 1}–{end}); no {name}")
    return None
