"""The schema engine: specs that say each parameter's default, range, meaning and source.

A model kind describes its scenario files with these specs (:class:`Section` of
:class:`Num`, :class:`Choice`, :class:`StateMap`, :class:`Tagged`, ...), and the sweep
files are described the same way (:data:`normsim.experiments.sweepfile.SWEEP`).
:func:`_validate` fills in the defaults and collects every problem, each naming the key
path and what is allowed, in a :class:`_Context`; :class:`ScenarioError` reports them one
line per problem (``file: key.path: message; allowed: ...``). From the same specs
:func:`parameter_table` prints the Markdown table of ``docs/ODD.md`` (``normsim params``)
and :func:`json_schema` a JSON Schema (draft 2020-12) for editors (``normsim schema``).
This is the bottom layer: it knows no model kind.

Why this engine and not pydantic v2 or jsonschema as the validator: every parameter here
carries its meaning and its source (a seed document's ``file:line``) for the ODD table,
which neither gives as data; every problem of a file is collected at once and reported
with the file, the key path and the allowed range in words, in the one-line form the CLI
prints, where pydantic's and jsonschema's errors are its own and need rewording; defaults
are filled as the file is read (jsonschema fills none); and the kinds' cross-key checks
(thresholds against ``n``, state codes defined under ``states``) record their problems in
the same :class:`_Context`. JSON Schema is generated *from* these specs, not written
beside them, so the editors' schema cannot drift from the validator.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

STATE_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
"""A member code or a declared name (``IDN``, ``member_1``, ``non-force``): a letter, then
letters, digits, ``_`` or ``-``."""
CODE_RULE = "a letter, then letters, digits, _ or - (e.g. IDN, member_1)"

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
    """A mapping with named fields; unknown keys are errors.

    Attributes:
        fields: the spec of each key.
        doc: what the mapping is.
        required: keys that must be given.
        one_of: groups of keys of which exactly one must be given (no default is filled
            for the others).
        exclusive: groups of keys of which at most one may be given.
    """

    fields: dict[str, Spec]
    doc: str = ""
    required: tuple[str, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    exclusive: tuple[tuple[str, ...], ...] = ()

    def grouped(self, key: str) -> bool:
        """Whether ``key`` belongs to a one-of or exclusive group (then no default)."""
        return any(key in group for group in (*self.one_of, *self.exclusive))


@dataclass(frozen=True)
class StateMap:
    """A mapping from state codes (three capital letters) to sections."""

    value: Section
    doc: str = ""
    defined_codes: bool = False  # keys must be states defined under ``states``


@dataclass(frozen=True)
class KeyMap:
    """A mapping keyed by names: declared here (``of`` None), or declared under ``of``.

    With ``of`` (a top-level key, e.g. ``norms``), every key must be a name declared there,
    and every declared name gets a value: the value spec's default, or, if it has none, a
    "missing" problem. The parameter table shows the keys as ``<KEY>``.
    """

    value: Spec
    doc: str = ""
    of: str | None = None


@dataclass(frozen=True)
class MapOf:
    """A mapping from names of a pattern (a sweep's parameter names) to one spec."""

    value: Spec
    doc: str = ""
    pattern: str = r"^[A-Za-z][A-Za-z0-9_.]*$"
    key_doc: str = "a name starts with a letter and has letters, digits, _ or . only"


@dataclass(frozen=True)
class ListOf:
    """A list of items of one spec, with an optional fixed length."""

    item: Spec
    doc: str = ""
    length: int | None = None


@dataclass(frozen=True)
class Tagged:
    """A mapping whose ``tag`` key selects which section describes the rest.

    Attributes:
        tag: the key that names the variant (``type``, ``generator``, ``distribution``).
        variants: the section of each variant, without the tag.
        doc: what the mapping is.
        default: the variant of a mapping that gives no tag.
        bare: a value that is not a mapping stands for a mapping: if ``bare`` is the tag,
            the value is the tag (``design: grid``); else it is the ``bare`` key of the
            default variant (``threshold: 0.18`` is ``{distribution: constant, value: 0.18}``).
        untagged: the section of a mapping without the tag (a network ``file``); its first
            required key and the tag exclude each other.
    """

    tag: str
    variants: dict[str, Section]
    doc: str = ""
    default: str | None = None
    bare: str | None = None
    untagged: Section | None = None


@dataclass(frozen=True)
class Free:
    """A value of any content, checked elsewhere (a sweep's overrides and values)."""

    doc: str = ""
    form: str = "mapping"  # mapping, list or any
    default: Any = None

    def allowed(self) -> str:
        """The allowed values, in words."""
        return {"mapping": "a mapping", "list": "a non-empty list"}.get(self.form, "any value")


type Spec = (Num | Choice | Text | Flag | Code | Free | Section | StateMap | KeyMap | MapOf
             | ListOf | Tagged)


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
    root: Any = None  # the raw scenario, whose top-level mappings declare a KeyMap's names

    def declared(self, key: str) -> tuple[str, ...]:
        """The names declared under the top-level mapping ``key`` (a :class:`KeyMap`'s)."""
        return defined_codes(self.root, key)

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
            if value is None and spec.default is None:  # unset text stays unset
                return None
            if not isinstance(value, str):
                ctx.fail(path, f"expected text, got {_type_name(value)} {value!r}")
                return spec.default
            return value
        case Flag():
            if not isinstance(value, bool):
                ctx.fail(path, f"expected true or false, got {_type_name(value)} {value!r}")
                return spec.default
            return value
        case Free():
            wanted = {"mapping": dict, "list": list}.get(spec.form)
            if wanted is not None and (not isinstance(value, wanted) or
                                       (wanted is list and not value)):
                ctx.fail(path, f"expected {spec.allowed()}, got {_type_name(value)} {value!r}")
                return spec.default
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
                    ctx.fail(_join(path, str(code)), f"a state code must be {CODE_RULE}")
                    continue
                if spec.defined_codes and code not in ctx.codes:
                    known = ", ".join(ctx.codes)
                    ctx.fail(_join(path, code),
                             f"unknown state code {code!r}; defined under states: {known}")
                    continue
                out[code] = _validate(spec.value, {} if item is None else item,
                                      _join(path, code), ctx)
            return out
        case KeyMap():
            return _validate_keymap(spec, value, path, ctx)
        case MapOf():
            value = {} if value is None else value
            if not isinstance(value, dict):
                ctx.fail(path, f"expected a mapping of names, got {_type_name(value)}")
                return {}
            out = {}
            for name, item in value.items():
                if not isinstance(name, str) or not re.match(spec.pattern, name):
                    ctx.fail(_join(path, str(name)), spec.key_doc)
                    continue
                out[name] = _validate(spec.value, item, _join(path, name), ctx)
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
            return _validate_tagged(spec, value, path, ctx)
    raise TypeError(f"not a schema spec: {spec!r}")


def _validate_keymap(spec: KeyMap, value: Any, path: str, ctx: _Context) -> dict:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        ctx.fail(path, f"expected a mapping of names, got {_type_name(value)}")
        return {}
    declared = None if spec.of is None else ctx.declared(spec.of)
    out = {}
    for key, item in value.items():
        where = _join(path, str(key))
        if not isinstance(key, str) or not STATE_CODE.match(key):
            ctx.fail(where, f"a name must be {CODE_RULE}")
        elif declared is not None and key not in declared:
            ctx.fail(where, f"unknown name {key!r}; declared under {spec.of}: "
                     f"{', '.join(declared) or 'none'}")
        else:
            out[key] = _validate(spec.value, {} if item is None and isinstance(
                spec.value, Section) else item, where, ctx)
    for key in declared or ():
        if key in out:
            continue
        default = _default(spec.value)
        if default is None:
            wanted = getattr(spec.value, "allowed", lambda: spec.value.doc)()
            ctx.fail(_join(path, key), f"missing; every name declared under {spec.of} needs "
                     f"one: {wanted}")
        else:
            out[key] = default
    return {k: out[k] for k in (*(declared or ()), *out) if k in out}  # declared order


def _validate_tagged(spec: Tagged, value: Any, path: str, ctx: _Context) -> dict:
    if value is None and spec.default is not None:
        value = {}
    if not isinstance(value, dict) and spec.bare is not None:
        value = {spec.bare: value}
    if not isinstance(value, dict):
        ctx.fail(path, f"expected a mapping, got {_type_name(value)} {value!r}")
        return {}
    if spec.untagged is not None:
        alternative = spec.untagged.required[0]
        if spec.tag in value and alternative in value:
            ctx.fail(path, f"give exactly one of {spec.tag} or {alternative}")
            return {}
        if spec.tag not in value:
            return _validate_section(spec.untagged, value, path, ctx)
    tag = value.get(spec.tag, spec.default)
    if not isinstance(tag, str) or tag not in spec.variants:
        allowed = ", ".join(spec.variants)
        ctx.fail(_join(path, spec.tag), f"{tag!r} is not allowed; allowed: {allowed}")
        return {}
    rest = {k: v for k, v in value.items() if k != spec.tag}
    return {spec.tag: tag, **_validate_section(spec.variants[tag], rest, path, ctx)}


def _validate_section(spec: Section, value: Any, path: str, ctx: _Context) -> dict:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        ctx.fail(path, f"expected a mapping, got {_type_name(value)} {value!r}")
        value = {}
    for key in value:
        if key not in spec.fields:
            ctx.fail(_join(path, str(key)), f"unknown key; allowed: {', '.join(spec.fields)}")
    for group in spec.one_of:
        given = [key for key in group if key in value]
        if len(given) != 1:
            ctx.fail(path, f"give exactly one of {_or(group)}"
                     + (f"; got {', '.join(given)}" if given else ""))
    for group in spec.exclusive:
        given = [key for key in group if key in value]
        if len(given) > 1:
            ctx.fail(path, f"give at most one of {_or(group)}; got {', '.join(given)}")
    out = {}
    for key, sub in spec.fields.items():
        where = _join(path, key)
        if key in value:
            out[key] = _validate(sub, value[key], where, ctx)
        elif key in spec.required:
            ctx.fail(where, f"missing; required: {_describe(sub)}")
        elif isinstance(sub, KeyMap):  # absent: every declared name still needs its value
            out[key] = _validate_keymap(sub, {}, where, ctx)
        elif not spec.grouped(key):  # one of a group stays absent when not given
            out[key] = _default(sub)
    return out


def _or(keys: tuple[str, ...]) -> str:
    return ", ".join(keys[:-1]) + f" or {keys[-1]}" if len(keys) > 1 else keys[0]


def _describe(spec: Spec) -> str:
    if isinstance(spec, Num | Choice | Text | Flag | Code | Free):
        return f"{spec.allowed()} ({spec.doc})" if spec.doc else spec.allowed()
    return spec.doc or "a mapping"


def _default(spec: Spec) -> Any:
    match spec:
        case Section():
            return {k: _default(s) for k, s in spec.fields.items()}
        case StateMap() | KeyMap() | MapOf():
            return {}
        case ListOf():
            return []
        case Tagged():
            if spec.default is None:
                return None
            return _validate_tagged(spec, {}, "", _Context())
        case _:
            return spec.default



def defined_codes(raw: Any, key: str = "states") -> tuple[str, ...]:
    """The codes defined under ``key`` of a raw scenario: what :class:`Code` allows (states).

    Under another key (``norms``), the names a :class:`KeyMap` of that key allows.
    """
    states = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(states, dict):
        return ()
    return tuple(c for c in states if isinstance(c, str) and STATE_CODE.match(c))


def spec_at(spec: Spec, dotted: str, data: Any = None) -> Spec | None:
    """The entry of a schema that a dotted key addresses, or None if the schema cannot tell.

    Under a :class:`Tagged` mapping the variant is the one ``data`` (validated data the key
    addresses, e.g. a sweep's base scenario) holds; without data, the first that has the key.
    """
    for part in dotted.split("."):
        if isinstance(spec, Tagged):
            spec = _variant(spec, data, part)
        match spec:
            case Section():
                if part not in spec.fields:
                    return None
                spec = spec.fields[part]
            case StateMap() | KeyMap() | MapOf():
                spec = spec.value
            case ListOf() if part.isdigit():
                spec = spec.item
            case _:
                return None
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            data = None
    return spec


def _variant(spec: Tagged, data: Any, key: str) -> Section | None:
    """The section of a tagged mapping that ``data`` holds, else the first with ``key``."""
    if isinstance(data, dict):
        if data.get(spec.tag) in spec.variants:
            return spec.variants[data[spec.tag]]
        if spec.untagged is not None and spec.tag not in data:
            return spec.untagged
    sections = [*spec.variants.values(), *([spec.untagged] if spec.untagged else [])]
    return next((s for s in sections if key in s.fields), None)


# --------------------------------------------------------------------------- docs


def parameter_rows(spec: Spec, path: str = "") -> Iterator[tuple[str, ...]]:
    """(key, allowed, default, meaning, source) for every leaf of the schema."""
    match spec:
        case Section():
            for key, sub in spec.fields.items():
                yield from parameter_rows(sub, _join(path, key))
        case StateMap():
            yield from parameter_rows(spec.value, f"{path}.<CODE>")
        case KeyMap():
            yield from parameter_rows(spec.value, f"{path}.<KEY>")
        case MapOf():
            yield from parameter_rows(spec.value, f"{path}.<NAME>")
        case ListOf() if isinstance(spec.item, Section | Tagged):
            yield from parameter_rows(spec.item, f"{path}[]")
        case ListOf():
            yield path, f"list of {spec.length or 'any number of'} {spec.item.allowed()}", "", \
                spec.doc, ""
        case Tagged():
            for tag, section in spec.variants.items():
                yield from parameter_rows(section, f"{path}({spec.tag}: {tag})")
            if spec.untagged is not None:
                yield from parameter_rows(spec.untagged,
                                          f"{path}({spec.untagged.required[0]})")
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



# --------------------------------------------------------------------------- JSON Schema

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _description(spec: Spec) -> str:
    doc = getattr(spec, "doc", "")
    source = getattr(spec, "source", "")
    return f"{doc} Source: {source}." if doc and source else doc


def _annotate(out: dict[str, Any], spec: Spec) -> dict[str, Any]:
    description = _description(spec)
    if description:
        out["description"] = description
    return out


def json_schema(spec: Spec, title: str = "", extends: bool = False) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of the files a schema describes, for editors.

    Types, enums, bounds, defaults, descriptions (meaning and source), required keys, no
    unknown keys (``additionalProperties: false``), ``oneOf`` for tagged mappings and
    one-of key groups, ``patternProperties`` for state maps. What only the cross-key checks
    know (a state code defined under ``states``, a threshold per node) it cannot say.

    Args:
        spec: the top-level spec (a kind's scenario schema, or a sweep file's).
        title: the schema's title.
        extends: allow a top-level ``extends: FILE``; a file that gives it need not give
            the top-level required keys (its base does; mappings merge key by key).
    """
    body = _json(spec)
    if extends and body.get("type") == "object":
        body["properties"] = {"extends": {
            "type": "string", "description": "A scenario file this one starts from: a path "
            "relative to this file, or a shipped scenario name."}, **body["properties"]}
        required = body.pop("required", None)
        if required:
            body["if"] = {"not": {"required": ["extends"]}}
            body["then"] = {"required": required}
    return {"$schema": JSON_SCHEMA_DIALECT, **({"title": title} if title else {}), **body}


def _json(spec: Spec) -> dict[str, Any]:
    match spec:
        case Num():
            kind = "integer" if spec.integer else "number"
            out: dict[str, Any] = {"type": [kind, "null"] if spec.nullable else kind}
            if spec.lo is not None:
                out["exclusiveMinimum" if spec.lo_open else "minimum"] = spec.lo
            if spec.hi is not None:
                out["maximum"] = spec.hi
        case Choice():
            out = {"enum": list(spec.options)}
        case Text():
            out = {"type": ["string", "null"] if spec.default is None else "string"}
        case Flag():
            out = {"type": "boolean"}
        case Code():
            out = {"type": "string", "pattern": STATE_CODE.pattern}
        case Free():
            out = {"mapping": {"type": "object"}, "list": {"type": "array", "minItems": 1}
                   }.get(spec.form, {})
        case Section():
            return _json_section(spec)
        case StateMap() | KeyMap():
            pattern = STATE_CODE.pattern
            value = _json(spec.value)
            if isinstance(spec.value, Section):
                value = {"anyOf": [value, {"type": "null"}]}
            out = {"type": ["object", "null"] if isinstance(spec, KeyMap) else "object",
                   "patternProperties": {pattern: value}, "additionalProperties": False}
        case MapOf():
            out = {"type": "object", "patternProperties": {spec.pattern: _json(spec.value)},
                   "additionalProperties": False}
        case ListOf():
            out = {"type": "array", "items": _json(spec.item)}
            if spec.length is not None:
                out["minItems"] = out["maxItems"] = spec.length
        case Tagged():
            return _json_tagged(spec)
        case _:
            raise TypeError(f"not a schema spec: {spec!r}")
    default = getattr(spec, "default", None)
    if default is not None:
        out["default"] = default
    return _annotate(out, spec)


def _json_section(spec: Section, tag: tuple[str, str] | None = None,
                  tag_optional: bool = False) -> dict[str, Any]:
    properties = {key: _json(sub) for key, sub in spec.fields.items()}
    required = list(spec.required)
    if tag is not None:
        properties = {tag[0]: {"const": tag[1]}, **properties}
        if not tag_optional:
            required.insert(0, tag[0])
    strict = bool(required or spec.one_of)
    out: dict[str, Any] = {"type": "object" if strict or tag else ["object", "null"],
                           "properties": properties, "additionalProperties": False}
    if required:
        out["required"] = required
    groups = [{"oneOf": [{"required": [key]} for key in group]} for group in spec.one_of]
    groups += [{"not": {"required": [a, b]}} for group in spec.exclusive
               for i, a in enumerate(group) for b in group[i + 1:]]
    if len(groups) == 1:
        out.update(groups[0])
    elif groups:
        out["allOf"] = groups
    return _annotate(out, spec)


def _json_tagged(spec: Tagged) -> dict[str, Any]:
    options = [_json_section(section, (spec.tag, tag), tag == spec.default)
               for tag, section in spec.variants.items()]
    if spec.untagged is not None:
        options.append(_json_section(spec.untagged))
    if spec.bare == spec.tag:
        options.insert(0, {"enum": list(spec.variants)})
    elif spec.bare is not None and spec.default is not None:
        options.insert(0, _json(spec.variants[spec.default].fields[spec.bare]))
    return _annotate({"oneOf": options}, spec)
