"""Reading YAML files as a person writes them: YAML 1.2 floats, no key given twice."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import yaml

from normsim.schema import Problem, ScenarioError, _join

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
