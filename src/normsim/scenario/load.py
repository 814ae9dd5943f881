"""Loading a scenario: parse (``extends``) -> overrides -> fill defaults and validate.

A scenario is a YAML file. ``extends: other.yaml`` starts from another file (mappings merge
key by key, lists are replaced). Its ``kind`` picks the model kind
(:func:`normsim.models.get_kind`), whose schema is the one home of every parameter's
default, allowed range, meaning and source. Validation collects every problem, each naming
the file, the key path and what is allowed, and raises :class:`ScenarioError`. Whatever is
particular to a kind (its horizon, how it runs for more steps) is asked of the kind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from normsim.models import DEFAULT_KIND, KINDS, get_kind, renamed_hint
from normsim.scenario.files import resolve_path
from normsim.scenario.yamlfile import read_yaml
from normsim.schema import (
    Num,
    Problem,
    ScenarioError,
    _Context,
    _type_name,
    _validate,
    defined_codes,
    spec_at,
)


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
        """The scenario's model kind, a key of :data:`normsim.models.KINDS`."""
        return self.data["kind"]

    @property
    def steps(self) -> int:
        """Number of steps the scenario runs (its kind's horizon)."""
        return get_kind(self.kind).horizon(self.data)


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

        The kind says which keys make it so (:meth:`~normsim.models.kind.ModelKind.with_steps`:
        an ASEAN scenario's ``end_year = start_year + steps``, a threshold scenario's step
        limit ``steps``). They are overrides validated like the file itself, so the schema's
        cap applies and the resolved scenario says what runs.

        Raises:
            ScenarioError: when the horizon is beyond the schema's limits.
        """
        kind = get_kind(self.kind)
        overrides = kind.with_steps(self.data, steps)
        try:
            return self.with_overrides(overrides)
        except ScenarioError as err:
            note = ""
            for key, value in overrides.items():  # the cap: the key's bound, less its offset
                spec = spec_at(kind.schema, key)
                if isinstance(spec, Num) and spec.hi is not None and isinstance(value, int):
                    cap = spec.hi - (value - steps)
                    note = f" (asked for {steps:,} steps; at most {int(cap):,} from this scenario)"
            raise ScenarioError(err.file, [replace(p, message=p.message + note)
                                           for p in err.problems]) from None


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
    """Fill defaults and validate; raise :class:`ScenarioError` listing every problem.

    The ``kind`` key (default ``region``) picks the schema and the cross-key checks.
    """
    ctx = _Context()
    if not isinstance(raw, dict):
        ctx.fail("", f"expected a mapping of keys, got {_type_name(raw)}")
        raise ScenarioError(file, ctx.problems)
    name = raw.get("kind", DEFAULT_KIND)
    if not isinstance(name, str) or name not in KINDS:
        ctx.fail("kind", f"{name!r} is not allowed; allowed: {', '.join(KINDS)}"
                 f"{renamed_hint(name)}")
        raise ScenarioError(file, ctx.problems)
    kind = KINDS[name]
    ctx.codes = defined_codes(raw)
    ctx.root = raw
    data = _validate(kind.schema, raw, "", ctx)
    kind.check(data, ctx)
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

