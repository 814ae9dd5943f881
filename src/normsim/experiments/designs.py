"""Designs: which points of a block's parameters run (grid, LHS, Sobol' or Morris).

A full factorial ``grid``; a Latin hypercube ``lhs`` (scipy.stats.qmc); a Sobol' design on
Saltelli's scheme ``sobol`` or Morris trajectories ``morris`` (SALib, imported only when
used). Sampled designs draw in the unit cube; each parameter maps its draws to values.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np

DesignKind = Literal["grid", "lhs", "sobol", "morris"]
DESIGNS: tuple[DesignKind, ...] = ("grid", "lhs", "sobol", "morris")


class Varied(Protocol):
    """What a design needs of a parameter: its name, grid values and map from [0, 1]."""

    name: str

    def grid(self) -> list[Any]:
        """The values of a full factorial design."""
        ...

    def from_unit(self, u: np.ndarray) -> list[Any]:
        """Map draws in [0, 1] to values."""
        ...


@dataclass(frozen=True)
class Design:
    """How a block's points are chosen.

    Attributes:
        kind: ``grid`` (full factorial), ``lhs`` (Latin hypercube, scipy.stats.qmc),
            ``sobol`` (Saltelli's scheme on a scrambled Sobol' sequence, SALib) or
            ``morris`` (elementary-effect trajectories, SALib).
        samples: LHS points; Sobol' base samples N (a power of 2; N(D + 2) points, or
            N(2D + 2) with second-order indices); Morris trajectories (N(D + 1) points).
        seed: the sampler's seed (default: the sweep's master seed).
        second_order: Sobol' design for second-order indices too.
        levels: Morris grid levels.
    """

    kind: DesignKind = "grid"
    samples: int | None = None
    seed: int = 0
    second_order: bool = False
    levels: int = 4

    def describe(self) -> dict[str, Any]:
        """The design as a plain mapping, for the metadata record."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind != "grid":
            out.update(samples=self.samples, seed=self.seed)
        if self.kind == "sobol":
            out["second_order"] = self.second_order
        if self.kind == "morris":
            out["levels"] = self.levels
        return out


def sample(design: Design,
           params: Sequence[Varied]) -> tuple[list[tuple[Any, ...]], np.ndarray | None]:
    """A block's points (values in parameter order) and, if sampled, the unit draws."""
    d = design
    if d.kind == "grid":
        return list(itertools.product(*(p.grid() for p in params))), None
    dims = len(params)
    problem = {
        "num_vars": dims,
        "names": [p.name for p in params],
        "bounds": [[0.0, 1.0]] * dims,
    }
    if d.kind == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=dims, rng=np.random.default_rng(d.seed)).random(d.samples)
    elif d.kind == "sobol":
        from SALib.sample import sobol

        unit = sobol.sample(
            problem, d.samples, calc_second_order=d.second_order, scramble=True, seed=d.seed
        )
    else:
        from SALib.sample import morris

        unit = morris.sample(problem, d.samples, num_levels=d.levels, seed=d.seed)
    columns = [p.from_unit(unit[:, j]) for j, p in enumerate(params)]
    return list(zip(*columns, strict=True)), np.asarray(unit)
