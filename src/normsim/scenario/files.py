"""Where scenario, sweep and pattern files are found: a path, or the name of a shipped file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from normsim.schema import Problem, ScenarioError

SCENARIO_DIR = Path(str(resources.files("normsim.scenarios")))
"""The shipped scenario files: package data ``normsim.scenarios``, which is the repository's
``scenarios/`` folder (``pyproject.toml`` maps it), in a wheel and an editable install alike.
Find files in it by name with :func:`resolve_path`, list them with :func:`shipped_names`."""

type FileKind = Literal["scenario", "sweep", "patterns", "calibration"]
SHIPPED_FOLDER: dict[FileKind, str] = {"scenario": "", "sweep": "sweeps", "patterns": "patterns",
                                     "calibration": "calibration"}
"""Where each kind of shipped file lives under :data:`SCENARIO_DIR`."""


def shipped_names(kind: FileKind = "scenario") -> tuple[str, ...]:
    """The names of the scenario (sweep, pattern) files shipped with normsim, sorted.

    Args:
        kind: ``scenario`` (``asean-2024``, ``threshold/watts-2002``: every YAML file outside
            ``sweeps/`` and ``patterns/``), ``sweep`` (``asean-levers``: the files in
            ``sweeps/``), ``patterns`` (``asean-history``: the files in ``patterns/``) or
            ``calibration`` (``asean-history``: the files in ``calibration/``).

    Returns:
        Names as :func:`resolve_path` takes them: relative, ``/``-separated, without ``.yaml``.
    """
    root = SCENARIO_DIR / SHIPPED_FOLDER[kind]
    files = (f.relative_to(root) for f in root.rglob("*.yaml"))
    others = {folder for k, folder in SHIPPED_FOLDER.items() if k != "scenario"}
    return tuple(sorted(f.with_suffix("").as_posix() for f in files
                        if kind != "scenario" or f.parts[0] not in others))


def resolve_path(name: str | Path, kind: FileKind = "scenario", *,
                 relative_to: Path | None = None) -> Path:
    """Find a scenario, sweep or pattern file: the one resolver of the CLI, models, viz, files.

    ``name`` is first a path, relative to ``relative_to`` (default: the current folder):
    an existing file is returned as it is. Otherwise it is the name of a file shipped with
    normsim (:func:`shipped_names`), found through :mod:`importlib.resources` from any
    folder: ``asean-2024`` or ``threshold/watts-2002.yaml`` for a scenario, ``asean-levers``
    for a sweep (in ``sweeps/``), ``asean-history`` for patterns (in ``patterns/``) and for
    a calibration (in ``calibration/``); ``.yaml`` may be left off.

    Args:
        name: a path or a shipped name.
        kind: what is looked for: a ``scenario``, ``sweep``, ``patterns`` or
            ``calibration`` file.
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
