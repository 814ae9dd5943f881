"""The schema engine: specs that say each parameter's default, range, meaning and source.

A model kind describes its scenario files with these specs (:class:`Section` of
:class:`Num`, :class:`Choice`, :class:`StateMap`, ...). :func:`_validate` fills in the
defaults and collects every problem, each naming the key path and what is allowed, in a
:class:`_Context`; :class:`ScenarioError` reports them one line per problem.
:func:`parameter_table` prints a schema as the Markdown table of ``docs/ODD.md``. This is
the bottom layer: it knows no model kind.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

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


def _prob(default: float, doc: str, source: str = "assumption") -> Num:
    return Num(default, 0.0, 1.0, doc, source)


def _rate(default: float, doc: str, source: str = "assumption") -> Num:
    return Num(default, 0.0, 5.0, doc, source)


def _year(doc: str, nullable: bool = False, default: int | None = None) -> Num:
    return Num(default, 1900, 2300, doc, "scenario", integer=True, nullable=nullable)



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



def defined_codes(raw: Any) -> tuple[str, ...]:
    """The state codes defined under ``states`` of a raw scenario: what :class:`Code` allows."""
    states = raw.get("states") if isinstance(raw, dict) else None
    if not isinstance(states, dict):
        return ()
    return tuple(c for c in states if isinstance(c, str) and STATE_CODE.match(c))


def spec_at(spec: Spec, dotted: str) -> Spec | None:
    """The entry of a schema that a dotted key addresses, or None if the schema cannot tell."""
    for part in dotted.split("."):
        match spec:
            case Section():
                if part not in spec.fields:
                    return None
                spec = spec.fields[part]
            case StateMap():
                spec = spec.value
            case ListOf() if part.isdigit():
                spec = spec.item
            case _:
                return None
    return spec


# --------------------------------------------------------------------------- docs


def parameter_rows(spec: Spec, path: str = "") -> Iterator[tuple[str, ...]]:
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


def parameter_table(spec: Spec) -> str:
    """The schema as a Markdown table, for ``docs/ODD.md``."""
    lines = ["| key | allowed | default | meaning | source |", "|---|---|---|---|---|"]
    for row in parameter_rows(spec):
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)
