"""The generic threshold-diffusion engine: the threshold rule, written once, on arrays.

The model is Granovetter's (1978) threshold model of collective behaviour on a network, as
Watts (2002) put it on random graphs and Centola & Macy (2007) on clustered lattices:

* every node ``i`` holds a threshold ``theta_i``;
* fractional rule (Granovetter 1978; Watts 2002): a non-adopter adopts when the weighted
  share of its neighbours that have adopted, ``sum_j A_ij x_j / sum_j A_ij``, is at least
  ``theta_i``. A node without neighbours never adopts unless it starts as an adopter;
* absolute rule (Granovetter's riot counts; Centola & Macy's complex contagion, a threshold
  of 2 or more adopting neighbours): a non-adopter adopts when the weighted count of its
  adopting neighbours, ``sum_j A_ij x_j``, is at least ``theta_i``. A threshold at or below
  zero makes a node adopt at step 1 whatever its neighbours do (Granovetter's instigator);
* adoption is monotone: adopters never revert (Granovetter 1978; Watts 2002);
* updating is synchronous: at step ``t`` every node reads the state of step ``t - 1``, and
  all of step ``t``'s adoptions apply together, so a node that adopts at ``t`` influences
  its neighbours at ``t + 1`` at the earliest;
* a run stops early at a fixed point, the first step at which nobody adopts (with monotone
  adoption no later step can change anything either).

Speed. Thresholds are turned, once per run, into the number of adopting neighbours each
node needs (exact: for unit weights ``k / degree >= theta`` is decided in the same float64
arithmetic as the share itself, then held as an int32). Counts of adopting neighbours are
kept up to date by pushing each step's new adopters along their ties only, and only the
neighbours of new adopters are re-examined; when a step touches more than a sixteenth of
the nodes, the whole population is examined instead, in one vectorised pass. One step thus
costs at most about one pass over the ties of the new adopters plus one pass over the
nodes, and usually far less than the sparse matrix-vector product ``A @ x`` that a plain
synchronous implementation pays every step (``benchmarks/run.py`` measures both side by
side).
"""

from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from normsim.models.threshold.networks import build_network

__all__ = [
    "AGENT_BYTES",
    "ThresholdDynamics",
    "ThresholdRun",
    "draw_initial_adopters",
    "draw_thresholds",
    "run_replicate",
    "simulate",
]

_NEVER = np.iinfo(np.int32).max
"""Neighbour count standing for "never adopts" (and for "has adopted already")."""

# A step whose new adopters touch more than n / _DENSE_FRACTION tie ends re-examines all
# nodes at the next step instead of the touched ones; pushes touching fewer than
# n / _SCATTER_FRACTION tie ends add in place instead of building a full bincount.
_DENSE_FRACTION = 16
_SCATTER_FRACTION = 64

AGENT_BYTES = 54
"""Peak memory of the engine per agent beyond the graph while a run steps (the thresholds,
counts, adoption steps and the largest step's temporaries; docs/performance.md)."""

DISTRIBUTIONS = ("constant", "uniform", "normal", "values")
"""Threshold distributions a ``threshold`` specification may name."""


# --------------------------------------------------------------------------- drawing
# The specifications come validated by the scenario schema
# (:mod:`normsim.models.threshold.schema`); only programming errors are asserted here.


def draw_thresholds(
    spec: dict[str, Any],
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw one threshold per node (Granovetter 1978: the distribution of thresholds).

    Forms (validated by :data:`normsim.models.threshold.schema.THRESHOLD`):

    * ``{distribution: constant, value: v}``: the same threshold for all;
    * ``{distribution: uniform, low: a, high: b}``: independent uniform draws on ``[a, b)``;
    * ``{distribution: normal, mean: m, sd: s}``: independent normal draws (Granovetter's
      1978 example). Draws are not truncated: a draw at or below 0 makes a node adopt
      as soon as it can (an instigator), a fractional draw above 1 makes it never adopt;
    * ``{distribution: values, values: [...]}``: one threshold per node, in node order.

    Args:
        spec: the validated ``threshold`` (or ``absolute_threshold``) of a scenario.
        n: number of nodes.
        rng: the random generator of this replicate; ``constant`` and ``values`` draw
            nothing from it, ``uniform`` and ``normal`` draw ``n`` numbers.

    Returns:
        float64 array of shape ``(n,)``.
    """
    kind = spec["distribution"]
    assert kind in DISTRIBUTIONS, f"not a validated threshold specification: {spec!r}"
    if kind == "constant":
        return np.full(n, spec["value"], dtype=np.float64)
    if kind == "uniform":
        return rng.uniform(spec["low"], spec["high"], size=n)
    if kind == "normal":
        return rng.normal(spec["mean"], spec["sd"], size=n)
    values = np.asarray(spec["values"], dtype=np.float64)
    assert values.shape == (n,), "one threshold per node"
    return values


def draw_initial_adopters(spec: dict[str, Any], n: int, rng: np.random.Generator) -> np.ndarray:
    """Choose the initial adopters: the seed of the cascade (Watts 2002: one random node).

    Exactly one of: ``random: K`` (``K`` distinct nodes drawn uniformly), ``share: f``
    (``round(f n)`` distinct nodes drawn uniformly, halves rounded up) or ``nodes: [ids]``
    (those nodes), validated by :data:`normsim.models.threshold.schema.INITIAL_ADOPTERS`.

    Args:
        spec: the validated ``initial_adopters`` of a scenario.
        n: number of nodes.
        rng: the random generator of this replicate; ``nodes`` draws nothing from it.

    Returns:
        bool array of shape ``(n,)``, True for an initial adopter.
    """
    initial = np.zeros(n, dtype=bool)
    if spec.get("nodes") is not None:
        initial[spec["nodes"]] = True
        return initial
    count = spec.get("random")
    if count is None:
        count = int(np.floor(spec["share"] * n + 0.5))
    initial[rng.choice(n, size=count, replace=False)] = True
    return initial


# --------------------------------------------------------------------------- dynamics


@dataclass(frozen=True, eq=False)  # arrays do not compare or hash as one value
class ThresholdRun:
    """The outcome of one run of the threshold model.

    Attributes:
        adopter_share: share of adopters after each step, float64 of shape
            ``(steps_run + 1,)``; entry 0 is the initial share.
        adoption_step: per node, the step at which it adopted (0 for an initial adopter),
            or -1 if it never did; int32 of shape ``(n,)``.
        steps_run: the number of steps until the fixed point (the step after it, which
            changes nothing, is not counted) or the step limit, whichever came first.
    """

    adopter_share: np.ndarray
    adoption_step: np.ndarray
    steps_run: int

    @property
    def final_share(self) -> float:
        """Share of adopters at the end of the run (the cascade size of Watts 2002)."""
        return float(self.adopter_share[-1])

    @property
    def adopted(self) -> np.ndarray:
        """Final adopters, bool of shape ``(n,)``."""
        return self.adoption_step >= 0


def _as_adjacency(adjacency: Any) -> sp.csr_array:
    """Check an adjacency matrix and return it as canonical CSR (no copy if it already is)."""
    matrix = adjacency if isinstance(adjacency, sp.csr_array) else sp.csr_array(adjacency)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"adjacency: must be a square matrix, got shape {matrix.shape}")
    if not matrix.has_canonical_format or not np.all(matrix.data):
        matrix = matrix.copy()  # never change the caller's matrix
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
    data = matrix.data
    if data.size and (not np.all(np.isfinite(data)) or data.min() < 0):
        raise ValueError("adjacency: tie weights must be finite and non-negative")
    rows = np.repeat(np.arange(matrix.shape[0], dtype=matrix.indices.dtype), np.diff(matrix.indptr))
    if np.any(rows == matrix.indices):
        raise ValueError("adjacency: the diagonal must be zero (no self-ties)")
    transposed = matrix.T.tocsr()  # canonical too: column indices come out sorted
    if not (
        np.array_equal(transposed.indptr, matrix.indptr)
        and np.array_equal(transposed.indices, matrix.indices)
        and np.array_equal(transposed.data, data)
    ):
        raise ValueError("adjacency: must be symmetric (undirected ties)")
    return matrix


class ThresholdDynamics:
    """Synchronous, monotone threshold dynamics on a fixed network, advanced step by step.

    This is the one implementation of the threshold rule (see the module docstring for the
    rule and its sources); :func:`simulate` runs it to a fixed point, and an interactive
    model can call :meth:`step` once per tick.

    Args:
        adjacency: symmetric ``(n, n)`` matrix of non-negative tie weights with an empty
            diagonal; ``[i, j]`` is the weight with which ``i`` reads ``j``.
        thresholds: per-node thresholds ``theta_i``, shape ``(n,)``.
        initial: per-node initial adopters, bool of shape ``(n,)``.
        absolute: False for the fractional rule (share of adopting neighbours, Granovetter
            1978, Watts 2002), True for the absolute rule (count of adopting neighbours,
            Centola & Macy 2007).
        validate: check the adjacency matrix (square, finite non-negative weights, zero
            diagonal, symmetric). Only skip this for matrices from
            :func:`normsim.models.threshold.networks.build_network`, which are valid by
            construction.
    """

    def __init__(
        self,
        adjacency: Any,
        thresholds: ArrayLike,
        initial: ArrayLike,
        *,
        absolute: bool = False,
        validate: bool = True,
    ) -> None:
        matrix = _as_adjacency(adjacency) if validate else adjacency
        n = matrix.shape[0]
        theta = np.asarray(thresholds, dtype=np.float64)
        start = np.asarray(initial)
        if theta.shape != (n,):
            raise ValueError(f"thresholds: must have shape ({n},), got {theta.shape}")
        if np.isnan(theta).any():
            raise ValueError("thresholds: must not be NaN")
        if start.shape != (n,) or start.dtype != np.bool_:
            raise ValueError(f"initial: must be a bool array of shape ({n},)")
        self._n = n
        self._indptr = matrix.indptr
        self._indptr_next = matrix.indptr[1:]
        self._indices = matrix.indices
        degree = np.diff(matrix.indptr)
        unit = bool(np.all(matrix.data == 1.0))
        self._weights: np.ndarray | None = None if unit else matrix.data
        if unit:
            self._need = _integer_need(theta, degree, absolute)
            self._counts: np.ndarray = np.zeros(n, dtype=np.int32)
            self._strength: np.ndarray | None = None
        else:
            strength = np.asarray(matrix.sum(axis=1), dtype=np.float64).reshape(n)
            need = theta.copy()
            if absolute:
                self._strength = None
            else:
                need[strength <= 0] = np.inf  # no neighbours: never adopts
                strength[strength <= 0] = 1.0  # avoids 0/0; such nodes never qualify
                self._strength = strength
            self._need = need
            self._counts = np.zeros(n, dtype=np.float64)
        self._adopted = start.copy()
        self._step_of = np.where(start, 0, -1).astype(np.int32)
        self._n_adopted = int(start.sum())
        self._t = 0
        self._scratch: np.ndarray | None = None
        seeds = np.flatnonzero(start)
        self._retire(seeds)
        self._push(seeds)
        self._touched: np.ndarray | None = None  # step 1 examines every node

    # ------------------------------------------------------------------ state

    @property
    def n(self) -> int:
        """Number of nodes."""
        return self._n

    @property
    def t(self) -> int:
        """Steps taken so far (0 before the first step)."""
        return self._t

    @property
    def n_adopted(self) -> int:
        """Number of adopters now."""
        return self._n_adopted

    @property
    def adopted(self) -> np.ndarray:
        """Current adopters (a read-only view), bool of shape ``(n,)``."""
        view = self._adopted.view()
        view.flags.writeable = False
        return view

    @property
    def adoption_step(self) -> np.ndarray:
        """Step at which each node adopted, -1 if not yet (a read-only view)."""
        view = self._step_of.view()
        view.flags.writeable = False
        return view

    # ------------------------------------------------------------------ the rule

    def step(self) -> int:
        """Advance one synchronous step: every non-adopter reads the state of ``t - 1``.

        Returns:
            The number of nodes that adopted in this step (0 at a fixed point).
        """
        self._t += 1
        if self._touched is None:
            new = self._qualifying_all()
        elif self._touched.size:
            new = self._qualifying_among(self._touched)
        else:
            new = self._touched  # nobody was touched: nobody can adopt
        if new.size:
            self._adopted[new] = True
            self._step_of[new] = self._t
            self._n_adopted += int(new.size)
            self._retire(new)
            self._push(new)
        else:
            self._touched = new
        return int(new.size)

    def _retire(self, nodes: np.ndarray) -> None:
        """Mark adopters so that they never qualify again (adoption is monotone)."""
        self._need[nodes] = _NEVER if self._weights is None else np.inf

    @staticmethod
    def _qualifies(counts: np.ndarray, need: np.ndarray, strength: np.ndarray | None) -> np.ndarray:
        if strength is None:
            return counts >= need
        return counts / strength >= need  # the weighted share, as in the rule

    def _qualifying_all(self) -> np.ndarray:
        return np.flatnonzero(self._qualifies(self._counts, self._need, self._strength))

    def _qualifying_among(self, touched: np.ndarray) -> np.ndarray:
        strength = None if self._strength is None else self._strength[touched]
        hits = touched[self._qualifies(self._counts[touched], self._need[touched], strength)]
        if hits.size <= 1:
            return hits
        # Drop repeats in O(len): each node keeps the position written last for it.
        if self._scratch is None:
            self._scratch = np.empty(self._n, dtype=np.int32)
        order = np.arange(hits.size, dtype=np.int32)
        self._scratch[hits] = order
        return hits[self._scratch[hits] == order]

    def _push(self, nodes: np.ndarray) -> None:
        """Add the new adopters' ties to their neighbours' counts; remember whom they touch."""
        starts = self._indptr[nodes]
        lengths = self._indptr_next[nodes] - starts
        total = int(lengths.sum())
        if total == 0:
            self._touched = np.empty(0, dtype=np.intp)
            return
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        offsets += np.arange(total, dtype=offsets.dtype)
        neighbours = self._indices[offsets]
        weights = None if self._weights is None else self._weights[offsets]
        if total < self._n // _SCATTER_FRACTION:
            np.add.at(self._counts, neighbours, 1 if weights is None else weights)
        else:
            added = np.bincount(neighbours, weights=weights, minlength=self._n)
            np.add(self._counts, added, out=self._counts, casting="unsafe")
        self._touched = None if total > self._n // _DENSE_FRACTION else neighbours


def _integer_need(theta: np.ndarray, degree: np.ndarray, absolute: bool) -> np.ndarray:
    """The number of adopting neighbours each node needs, for unit tie weights.

    For the absolute rule it is ``ceil(theta)`` (at least 0). For the fractional rule it is
    the least ``k`` in ``0 .. degree`` with ``k / degree >= theta`` evaluated in float64
    (the same arithmetic as the share itself, so the integer test is exactly the share
    test), or "never" if there is none or the node has no neighbours.
    """
    if absolute:
        need = np.ceil(np.clip(theta, 0.0, float(_NEVER)))
        return need.astype(np.int32)
    deg = degree.astype(np.float64)
    k = np.ceil(np.clip(theta, 0.0, 1.0) * deg)  # in 0 .. degree: 1.0 * degree is exact
    safe = np.maximum(deg, 1.0)  # isolated nodes: k = 0, marked "never" below
    # theta * degree is rounded once, so its ceiling is off by at most one either way.
    k -= (k > 0) & ((k - 1) / safe >= theta)
    k += k / safe < theta
    need = k.astype(np.int32)
    need[(degree == 0) | (k > deg)] = _NEVER
    return need


def simulate(
    adjacency: Any,
    thresholds: ArrayLike,
    initial: ArrayLike,
    steps: int,
    *,
    absolute: bool = False,
    validate: bool = True,
) -> ThresholdRun:
    """Run the threshold model to a fixed point or for at most ``steps`` steps.

    Synchronous, monotone updating; fractional rule (Granovetter 1978; Watts 2002) or
    absolute rule (Centola & Macy 2007); see the module docstring.

    Args:
        adjacency: symmetric ``(n, n)`` matrix of non-negative tie weights, empty diagonal.
        thresholds: per-node thresholds, shape ``(n,)``.
        initial: initial adopters, bool of shape ``(n,)``.
        steps: the step limit (``>= 0``).
        absolute: the absolute rule (counts) instead of the fractional one (shares).
        validate: check the adjacency matrix (see :class:`ThresholdDynamics`).

    Returns:
        The run: adopter share per step, adoption step per node, steps run.
    """
    if isinstance(steps, bool) or not isinstance(steps, Integral) or steps < 0:
        raise ValueError(f"steps: must be an integer >= 0, got {steps!r}")
    dynamics = ThresholdDynamics(
        adjacency, thresholds, initial, absolute=absolute, validate=validate
    )
    n = dynamics.n
    counts = [dynamics.n_adopted]
    while dynamics.t < steps and dynamics.step():
        counts.append(dynamics.n_adopted)
    share = np.asarray(counts, dtype=np.float64) / n
    return ThresholdRun(
        adopter_share=share,
        adoption_step=np.array(dynamics.adoption_step),
        steps_run=len(counts) - 1,
    )


def run_replicate(
    scenario: dict[str, Any],
    seed: int,
    base_dir: Path | None = None,
) -> ThresholdRun:
    """Run one replicate of a ``kind: threshold`` scenario from one seed.

    The replicate's generator is ``numpy.random.default_rng(seed)``; from it are drawn, in
    this fixed order, the graph, the thresholds and the initial adopters, so that every
    replicate has its own graph, thresholds and seed nodes (Watts 2002 draws a new random
    graph for every run).

    Args:
        scenario: the validated scenario data (``Scenario.data``: the scenario schema,
            :data:`normsim.models.threshold.schema.THRESHOLD`, has checked it and filled
            its defaults; it is not checked again for every replicate).
        seed: the replicate's seed, a non-negative integer.
        base_dir: directory against which a relative edge-list path is resolved.

    Returns:
        The run.
    """
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed: must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    adjacency = build_network(scenario["network"], rng, base_dir=base_dir)
    n = adjacency.shape[0]
    absolute = scenario.get("absolute_threshold") is not None
    threshold_spec = scenario["absolute_threshold" if absolute else "threshold"]
    thresholds = draw_thresholds(threshold_spec, n, rng)
    initial = draw_initial_adopters(scenario["initial_adopters"], n, rng)
    return simulate(
        adjacency, thresholds, initial, scenario["steps"], absolute=absolute, validate=False
    )
