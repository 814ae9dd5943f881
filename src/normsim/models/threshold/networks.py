"""Interaction networks for the generic threshold-diffusion engine.

Every graph is returned as a symmetric :class:`scipy.sparse.csr_array` of shape ``(n, n)``
with float64 weights (1.0 for an unweighted tie), an empty diagonal, sorted column indices,
no duplicate entries and int32 indices whenever they fit. Entry ``[i, j]`` is the weight
with which node ``i`` reads node ``j``; ties are undirected, so ``[j, i]`` is the same.

A ``network`` specification is a dict, as in a ``kind: threshold`` scenario file::

    network:
      generator: erdos_renyi   # complete, ring_lattice, watts_strogatz, barabasi_albert
      n: 10000
      mean_degree: 4           # or the generator's own keys (p, k, m)

or ``{"file": "edges.csv", "n": 10000}`` for an edge list ``source,target[,weight]`` with
nodes ``0 .. n-1`` (``n`` counts isolated nodes too).

Random graphs are drawn from the :class:`numpy.random.Generator` passed in and from nothing
else; networkx, used only for the Barabási–Albert generator, gets an integer seed drawn
from that generator. Erdős–Rényi, ring-lattice and Watts–Strogatz graphs are drawn with
numpy alone, so a graph of 10^6 nodes builds in about a second.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = [
    "GENERATORS",
    "barabasi_albert",
    "build_bytes",
    "build_network",
    "complete",
    "erdos_renyi",
    "expected_ties",
    "from_edges",
    "generator_keys",
    "network_bytes",
    "read_edge_list",
    "ring_lattice",
    "watts_strogatz",
]

_INT32_MAX = np.iinfo(np.int32).max

# Up to this many node pairs, G(n, p) is drawn pair by pair (one Bernoulli draw per pair).
_DENSE_PAIR_LIMIT = 4_000_000
# Rounds of redrawing for Watts–Strogatz endpoints that collide with existing ties.
_MAX_REWIRE_ROUNDS = 64


# --------------------------------------------------------------------------- building


def from_edges(
    n: int,
    source: np.ndarray,
    target: np.ndarray,
    weight: np.ndarray | None = None,
) -> sp.csr_array:
    """Build the symmetric adjacency matrix of an undirected graph from its edges.

    Args:
        n: number of nodes, isolated ones included.
        source: one endpoint of each edge (integers in ``0 .. n-1``).
        target: the other endpoint; no self-loops, each unordered pair at most once.
        weight: positive tie strength per edge; ``None`` means 1.0 for every edge.

    Returns:
        The ``(n, n)`` CSR adjacency matrix with both ``[u, v]`` and ``[v, u]`` set.
    """
    index_dtype = np.int32 if n <= _INT32_MAX and 2 * len(source) <= _INT32_MAX else np.int64
    rows = np.concatenate([source, target]).astype(index_dtype, copy=False)
    cols = np.concatenate([target, source]).astype(index_dtype, copy=False)
    if weight is None:
        data = np.ones(rows.size, dtype=np.float64)
    else:
        w = np.asarray(weight, dtype=np.float64)
        data = np.concatenate([w, w])
    matrix = sp.coo_array((data, (rows, cols)), shape=(n, n)).tocsr()
    matrix.sum_duplicates()  # sorts the column indices; the inputs hold no duplicates
    return matrix


def _decode_pairs(codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Split pair codes ``lo * n + hi`` into their endpoints."""
    return codes // n, codes % n


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` without its hashing detour, which is slower)."""
    values = np.sort(values)
    if values.size == 0:
        return values
    keep = np.empty(values.size, dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def erdos_renyi(n: int, p: float, rng: np.random.Generator) -> sp.csr_array:
    """Draw a G(n, p) random graph (Erdős & Rényi 1959; Gilbert 1959).

    Each of the ``n (n - 1) / 2`` node pairs is tied independently with probability ``p``,
    the random graph of Watts (2002). For at most a few million pairs every pair gets its
    own Bernoulli draw. Beyond that the number of edges is drawn first,
    ``M ~ Binomial(n (n - 1) / 2, p)``, and then ``M`` distinct pairs uniformly at random
    (ordered pairs drawn uniformly, self-pairs discarded, duplicates removed, and a uniform
    subset of ``M`` kept), which is the same distribution in O(M log M) time.

    Args:
        n: number of nodes.
        p: tie probability, in ``[0, 1]``.
        rng: the random generator of this replicate.

    Returns:
        The adjacency matrix.
    """
    pairs = n * (n - 1) // 2
    if pairs <= _DENSE_PAIR_LIMIT or p > 0.5:
        lo, hi = np.triu_indices(n, k=1)
        tied = rng.random(lo.size) < p
        return from_edges(n, lo[tied], hi[tied])
    wanted = int(rng.binomial(pairs, p))
    codes = np.empty(0, dtype=np.int64)
    while codes.size < wanted:
        draw = int((wanted - codes.size) * 1.02) + 64
        a = rng.integers(0, n, size=draw, dtype=np.int64)
        b = rng.integers(0, n, size=draw, dtype=np.int64)
        distinct = a != b
        a, b = a[distinct], b[distinct]
        fresh = np.minimum(a, b) * n + np.maximum(a, b)
        codes = _sorted_unique(np.concatenate([codes, fresh]))
    if codes.size > wanted:
        keep = np.zeros(codes.size, dtype=bool)
        keep[rng.choice(codes.size, size=wanted, replace=False)] = True
        codes = codes[keep]  # a uniform subset, still sorted
    lo, hi = _decode_pairs(codes, n)
    return from_edges(n, lo, hi)


def complete(n: int) -> sp.csr_array:
    """The complete graph on ``n`` nodes (Granovetter's 1978 crowd: everyone sees everyone).

    Args:
        n: number of nodes.

    Returns:
        The adjacency matrix.
    """
    lo, hi = np.triu_indices(n, k=1)
    return from_edges(n, lo, hi)


def _lattice_pairs(n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Ring-lattice ties ``(i, i + d mod n)`` for ``d = 1 .. k/2``, distance-major order."""
    nodes = np.arange(n, dtype=np.int64)
    source = np.tile(nodes, k // 2)
    target = (source + np.repeat(np.arange(1, k // 2 + 1, dtype=np.int64), n)) % n
    return source, target


def ring_lattice(n: int, k: int) -> sp.csr_array:
    """A ring lattice: each node tied to its ``k/2`` nearest neighbours on either side.

    The one-dimensional regular lattice of Watts & Strogatz (1998) and of Centola & Macy
    (2007), whose overlapping neighbourhoods form the "wide bridges" complex contagions need.

    Args:
        n: number of nodes.
        k: degree of every node; even, ``0 <= k <= n - 1``.

    Returns:
        The adjacency matrix.
    """
    source, target = _lattice_pairs(n, k)
    return from_edges(n, source, target)


def watts_strogatz(n: int, k: int, p: float, rng: np.random.Generator) -> sp.csr_array:
    """A Watts–Strogatz (1998) small world: a ring lattice with randomly rewired ties.

    As in Watts & Strogatz (1998) and networkx, the lattice tie ``(u, u + d)`` is rewired
    with probability ``p`` to ``(u, w)``, keeping the endpoint ``u`` and choosing ``w``
    uniformly among the nodes that are neither ``u`` nor already tied to ``u``; so node
    degrees stay at least ``k/2`` and the number of ties stays ``n k / 2``. The rewired ties
    are drawn together rather than one after another: an endpoint that would repeat an
    existing tie (any lattice tie, or a rewired tie drawn before it) is drawn again. If no
    free endpoint turns up within a bounded number of rounds (only possible when ``k`` is
    close to ``n``) the tie keeps its lattice endpoint, as networkx does for saturated nodes.

    Args:
        n: number of nodes.
        k: lattice degree; even, ``0 <= k <= n - 1``.
        p: rewiring probability per tie, in ``[0, 1]``.
        rng: the random generator of this replicate.

    Returns:
        The adjacency matrix.
    """
    source, target = _lattice_pairs(n, k)
    rewire = rng.random(source.size) < p
    if not rewire.any():
        return from_edges(n, source, target)
    taken = np.sort(np.minimum(source, target) * n + np.maximum(source, target))
    pending = np.flatnonzero(rewire)
    new_target = target.copy()
    for _ in range(_MAX_REWIRE_ROUNDS):
        if pending.size == 0:
            break
        u = source[pending]
        w = rng.integers(0, n, size=pending.size, dtype=np.int64)
        code = np.minimum(u, w) * n + np.maximum(u, w)
        pos = np.searchsorted(taken, code)
        clash = (w == u) | (taken[np.minimum(pos, taken.size - 1)] == code)
        # Among this round's draws, the first of equal pairs wins.
        order = np.argsort(code, kind="stable")
        repeat = np.zeros(code.size, dtype=bool)
        repeat[order[1:]] = code[order[1:]] == code[order[:-1]]
        ok = ~(clash | repeat)
        new_target[pending[ok]] = w[ok]
        taken = np.sort(np.concatenate([taken, code[ok]]))
        pending = pending[~ok]
    return from_edges(n, source, new_target)


def barabasi_albert(n: int, m: int, rng: np.random.Generator) -> sp.csr_array:
    """A Barabási–Albert (1999) preferential-attachment graph, via networkx.

    Each new node attaches to ``m`` distinct existing nodes chosen with probability
    proportional to their degree; networkx's generator (seeded from ``rng``) draws it.

    Args:
        n: number of nodes.
        m: ties of each new node, ``1 <= m < n``.
        rng: the random generator of this replicate.

    Returns:
        The adjacency matrix.
    """
    import networkx as nx  # only this generator needs it

    graph = nx.barabasi_albert_graph(n, m, seed=int(rng.integers(2**31)))
    edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    return from_edges(n, edges[:, 0], edges[:, 1])


# --------------------------------------------------------------------------- edge lists


def read_edge_list(path: Path, n: int) -> sp.csr_array:
    """Read an undirected edge list ``source,target[,weight]`` into an adjacency matrix.

    The file is comma-separated with an optional header line (recognised by a first field
    that is not an integer). Nodes are integers ``0 .. n-1``; nodes that appear in no edge
    are isolated. Weights, if given, must be positive and finite; without a third column
    every tie weighs 1.0. An unordered pair may be listed more than once (for instance in
    both directions) only with the same weight. Self-loops are rejected.

    Args:
        path: the CSV file.
        n: number of nodes, isolated ones included.

    Returns:
        The adjacency matrix.

    Raises:
        ValueError: for a malformed file, with the offending line number.
    """
    import pandas as pd  # only edge lists need it

    with path.open(encoding="utf-8") as handle:
        first = handle.readline()
    first_field = first.split(",")[0].strip()
    header = 0 if first_field and not first_field.lstrip("+-").isdigit() else None
    line_offset = 2 if header == 0 else 1
    try:
        table = pd.read_csv(path, header=header, skipinitialspace=True, dtype=str)
    except pd.errors.EmptyDataError:
        table = pd.DataFrame()
    if table.shape[1] not in (0, 2, 3):
        raise ValueError(
            f"network.file {path.name}: expected 2 or 3 columns (source,target[,weight]), "
            f"found {table.shape[1]}"
        )
    if table.shape[0] == 0:
        return from_edges(n, np.empty(0, np.int64), np.empty(0, np.int64))
    ends = []
    for column in range(2):
        values = pd.to_numeric(table.iloc[:, column], errors="coerce")
        bad = values.isna() | (values != np.floor(values))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(
                f"network.file {path.name} line {row + line_offset}: node ids must be integers,"
                f" got {table.iloc[row, column]!r}"
            )
        ids = values.to_numpy(dtype=np.int64)
        out = (ids < 0) | (ids >= n)
        if out.any():
            row = int(np.flatnonzero(out)[0])
            raise ValueError(
                f"network.file {path.name} line {row + line_offset}: node id {ids[row]} is "
                f"outside 0 .. n-1 = 0 .. {n - 1}"
            )
        ends.append(ids)
    source, target = ends
    loops = source == target
    if loops.any():
        row = int(np.flatnonzero(loops)[0])
        raise ValueError(
            f"network.file {path.name} line {row + line_offset}: self-loop {source[row]},"
            f"{target[row]} is not allowed"
        )
    if table.shape[1] == 3:
        weight = pd.to_numeric(table.iloc[:, 2], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(weight) | (weight <= 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"network.file {path.name} line {row + line_offset}: weight must be a positive"
                f" finite number, got {table.iloc[row, 2]!r}"
            )
    else:
        weight = np.ones(source.size, dtype=np.float64)
    code = np.minimum(source, target) * n + np.maximum(source, target)
    order = np.argsort(code, kind="stable")
    code, weight, first_row = code[order], weight[order], order
    same = code[1:] == code[:-1]
    conflict = same & (weight[1:] != weight[:-1])
    if conflict.any():
        i = int(np.flatnonzero(conflict)[0])
        a, b = sorted((int(first_row[i]), int(first_row[i + 1])))
        raise ValueError(
            f"network.file {path.name} lines {a + line_offset} and {b + line_offset}: the "
            f"same tie is listed with different weights"
        )
    keep = np.ones(code.size, dtype=bool)
    keep[1:] = ~same
    lo, hi = _decode_pairs(code[keep], n)
    unit = bool(np.all(weight == 1.0))
    return from_edges(n, lo, hi, None if unit else weight[keep])


# --------------------------------------------------------------------------- specification

GENERATORS: dict[str, tuple[str, ...]] = {
    "erdos_renyi": ("mean_degree", "p"),
    "complete": (),
    "ring_lattice": ("mean_degree", "k"),
    "watts_strogatz": ("mean_degree", "k", "p"),
    "barabasi_albert": ("mean_degree", "m"),
}
"""Generator names and the keys each accepts besides ``n``
(:data:`normsim.models.threshold.schema.NETWORK` says their ranges)."""


def generator_keys(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A validated ``network`` specification in the generator's own keys.

    ``mean_degree`` z becomes ``p = z / (n - 1)`` for ``erdos_renyi``, ``k = z`` for the
    lattices and ``m = z / 2`` for ``barabasi_albert`` (the realised mean degree of a
    Barabási–Albert graph is ``2m`` less ``O(m^2 / n)``). The scenario schema has checked
    the ranges (:data:`normsim.models.threshold.schema.NETWORK`); this only translates.

    Args:
        spec: the validated ``network`` mapping of a scenario.

    Returns:
        A new dict: ``{"generator": ..., "n": ..., <generator keys>}`` or
        ``{"file": ..., "n": ...}``.
    """
    out = dict(spec)
    z = out.pop("mean_degree", None)
    if z is None:
        return out
    n, generator = out["n"], out["generator"]
    if generator == "erdos_renyi":
        out["p"] = z / (n - 1) if n > 1 else 0.0
    elif generator in ("ring_lattice", "watts_strogatz"):
        out["k"] = int(z)
    elif generator == "barabasi_albert":
        out["m"] = int(z) // 2
    return out


TIE_BYTES = 24
"""Memory of one undirected tie in the CSR graph: a float64 weight and an int32 column
index, stored in both directions (docs/performance.md)."""
NODE_BYTES = 4
"""Memory of one node in the CSR graph: its int32 row pointer (docs/performance.md)."""
BUILD_TIE_BYTES = {"barabasi_albert": 450}
"""Peak memory per tie while a generator builds its graph, where it exceeds the default
``BUILD_TIE_BYTES_DEFAULT``: networkx's graph objects (measured with tracemalloc)."""
BUILD_TIE_BYTES_DEFAULT = 110
"""Peak memory per tie while the numpy generators build a graph: the int64 edge lists, the
COO arrays of both directions and the finished CSR graph (measured: 72 B for complete and
ring lattices, 91 B for Watts–Strogatz, up to 108 B for Erdős–Rényi)."""


def expected_ties(canonical: Mapping[str, Any]) -> int | None:
    """The number of undirected ties a canonical network specification yields.

    Exact for the deterministic generators and Barabási–Albert, the expectation for
    Erdős–Rényi; ``None`` for an edge-list file (its ties are known only once it is read).

    Args:
        canonical: a validated network specification (see :func:`generator_keys`).

    Returns:
        The number of ties, or ``None``.
    """
    canonical = generator_keys(canonical)
    n = canonical["n"]
    match canonical.get("generator"):
        case "complete":
            return n * (n - 1) // 2
        case "erdos_renyi":
            return round(canonical["p"] * (n * (n - 1) // 2))
        case "ring_lattice" | "watts_strogatz":
            return n * canonical["k"] // 2
        case "barabasi_albert":
            return (n - canonical["m"]) * canonical["m"]
    return None


def network_bytes(canonical: Mapping[str, Any]) -> int:
    """Memory of the finished CSR graph: ``TIE_BYTES`` per tie plus ``NODE_BYTES`` per node.

    A lower bound of what building it takes (the generators hold their edge lists too);
    for an edge-list file only the nodes are counted.

    Args:
        canonical: a validated network specification (see :func:`generator_keys`).

    Returns:
        Bytes.
    """
    ties = expected_ties(canonical) or 0
    return TIE_BYTES * ties + NODE_BYTES * (canonical["n"] + 1)


def build_bytes(canonical: Mapping[str, Any]) -> int:
    """Peak memory while a generator builds the graph (finished graph included).

    Args:
        canonical: a validated network specification (see :func:`generator_keys`).

    Returns:
        Bytes; for an edge-list file, only the finished graph's nodes (see
        :func:`network_bytes`).
    """
    canonical = generator_keys(canonical)
    ties = expected_ties(canonical)
    if ties is None:
        return network_bytes(canonical)
    per_tie = BUILD_TIE_BYTES.get(canonical["generator"], BUILD_TIE_BYTES_DEFAULT)
    return per_tie * ties + NODE_BYTES * (canonical["n"] + 1)


def build_network(
    spec: Mapping[str, Any],
    rng: np.random.Generator,
    base_dir: Path | None = None,
) -> sp.csr_array:
    """Build the graph a ``network`` specification describes.

    Args:
        spec: the validated ``network`` mapping of a scenario (the scenario schema
            checks it; :func:`generator_keys` translates ``mean_degree``).
        rng: the random generator of this replicate; deterministic graphs draw nothing.
        base_dir: directory against which a relative ``file`` path is resolved (the
            scenario file's directory); the working directory if ``None``.

    Returns:
        The symmetric ``(n, n)`` CSR adjacency matrix.
    """
    canonical = generator_keys(spec)
    if "file" in canonical:
        path = Path(canonical["file"])
        if not path.is_absolute():
            path = (base_dir or Path.cwd()) / path
        return read_edge_list(path, canonical["n"])
    generator = canonical["generator"]
    if generator == "erdos_renyi":
        return erdos_renyi(canonical["n"], canonical["p"], rng)
    if generator == "complete":
        return complete(canonical["n"])
    if generator == "ring_lattice":
        return ring_lattice(canonical["n"], canonical["k"])
    if generator == "watts_strogatz":
        return watts_strogatz(canonical["n"], canonical["k"], canonical["p"], rng)
    return barabasi_albert(canonical["n"], canonical["m"], rng)
