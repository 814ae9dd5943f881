"""The model kinds, by the ``kind:`` value of their scenario files: the registry.

:data:`KINDS` maps each name to its :class:`~normsim.models.kind.ModelKind`;
:func:`get_kind` looks one up, :func:`register` adds one (a test's toy kind).
"""

from __future__ import annotations

from normsim.models import region, threshold
from normsim.models.kind import ModelKind

DEFAULT_KIND = "asean"
"""The kind of a scenario file that gives no ``kind:``."""

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
                          f"{', '.join(KINDS)}") from None


def register(kind: ModelKind) -> ModelKind:
    """Add a model kind to the registry (replacing one of the same name); return it."""
    KINDS[kind.name] = kind
    return kind


__all__ = ["DEFAULT_KIND", "KINDS", "ModelKind", "UnknownKind", "get_kind", "register"]
