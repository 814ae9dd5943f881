"""The model kinds, by the ``kind:`` value of their scenario files: the registry.

:data:`KINDS` maps each name to its :class:`~normsim.models.kind.ModelKind`;
:func:`get_kind` looks one up, :func:`register` adds one (a test's toy kind).
"""

from __future__ import annotations

from normsim.models import region, threshold
from normsim.models.kind import ModelKind

DEFAULT_KIND = "region"
"""The kind of a scenario file that gives no ``kind:``."""

RENAMED: dict[str, str] = {"asean": "region"}
"""Former kind names and the kind that replaced them, for the error a stale file gets: the
regional model is data (its prior norms, members and decision rule are in the file), so
``kind: asean`` is refused with a pointer to ``kind: region`` rather than kept as an alias."""

KINDS: dict[str, ModelKind] = {region.KIND.name: region.KIND, threshold.KIND.name: threshold.KIND}
"""Every model kind, by name, in the order error messages list them."""


class UnknownKind(KeyError):
    """A kind name that no model kind has; the message lists those that exist."""

    def __str__(self) -> str:
        return str(self.args[0])


def get_kind(name: str) -> ModelKind:
    """The model kind called ``name``.

    Raises:
        UnknownKind: no kind has that name; the message lists the kinds.
    """
    try:
        return KINDS[name]
    except (KeyError, TypeError):
        raise UnknownKind(f"unknown model kind {name!r}; the kinds are: "
                          f"{', '.join(KINDS)}{renamed_hint(name)}") from None


def renamed_hint(name: object) -> str:
    """``; write kind: region`` for a former kind name (:data:`RENAMED`), else ``""``."""
    return f"; write kind: {RENAMED[name]}" if isinstance(name, str) and name in RENAMED else ""


def register(kind: ModelKind) -> ModelKind:
    """Add a model kind to the registry (replacing one of the same name); return it."""
    KINDS[kind.name] = kind
    return kind


__all__ = ["DEFAULT_KIND", "KINDS", "RENAMED", "ModelKind", "UnknownKind", "get_kind",
           "register", "renamed_hint"]
