"""The threshold scenario schema, and the checks that need ``n``: ranges, shapes, memory.

:data:`THRESHOLD` describes a ``kind: threshold`` scenario with the schema engine: the
``network`` is a tagged mapping by ``generator`` (or an edge-list ``file``), the
``threshold`` / ``absolute_threshold`` tagged by ``distribution`` (a bare number is a
constant), the ``initial_adopters`` exactly one of ``random``, ``share`` or ``nodes``. So
every problem of a file is collected at once with its key path, and ``normsim params
--kind threshold`` prints the table. :func:`check` adds what depends on the number of
nodes (a lattice degree up to ``n - 1``, one threshold per node, seed nodes below ``n``)
and refuses a network that cannot fit in memory. The engine
(:func:`normsim.models.threshold.dynamics.run_replicate`) takes the validated data as it
is and checks nothing again.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from normsim.models.threshold.dynamics import AGENT_BYTES
from normsim.models.threshold.networks import (
    NODE_BYTES,
    TIE_BYTES,
    build_bytes,
    expected_ties,
    generator_keys,
    network_bytes,
)
from normsim.schema import Choice, Flag, ListOf, Num, Section, Tagged, Text, _Context

_INT32_MAX = 2**31 - 1
_SOURCES = "Granovetter 1978; Watts 2002"

_N = Num(None, 1, _INT32_MAX, "Number of nodes, isolated ones included.", "scenario",
         integer=True)


def _p(doc: str) -> Num:
    return Num(None, 0.0, 1.0, doc, "scenario")


def _degree(integer: bool, lo: float = 0) -> Num:
    return Num(None, lo, None, "Mean degree z; translated to the generator's own key "
               "(erdos_renyi: p = z / (n - 1); lattices: k = z, even; barabasi_albert: "
               "m = z / 2). At most n - 1.", "Watts 2002", integer=integer)


_LATTICE_K = Num(None, 0, None, "Degree of every lattice node: k/2 ties on either side; "
                 "even, at most n - 1.", "Centola & Macy 2007", integer=True)

NETWORK = Tagged(
    "generator",
    {
        "erdos_renyi": Section({"n": _N, "mean_degree": _degree(False),
                                "p": _p("Tie probability of every node pair (G(n, p)).")},
                               required=("n",), one_of=(("mean_degree", "p"),)),
        "complete": Section({"n": _N}, required=("n",)),
        "ring_lattice": Section({"n": _N, "mean_degree": _degree(True), "k": _LATTICE_K},
                                required=("n",), one_of=(("mean_degree", "k"),)),
        "watts_strogatz": Section({"n": _N, "mean_degree": _degree(True), "k": _LATTICE_K,
                                   "p": _p("Rewiring probability of every lattice tie "
                                           "(Watts & Strogatz 1998).")},
                                  required=("n", "p"), one_of=(("mean_degree", "k"),)),
        "barabasi_albert": Section({"n": _N, "mean_degree": _degree(True, 2),
                                    "m": Num(None, 1, None, "Ties of each new node "
                                             "(Barabási & Albert 1999); at most n - 1.",
                                             "scenario", integer=True)},
                                   required=("n",), one_of=(("mean_degree", "m"),)),
    },
    "The interaction network: a generator with n and its keys, or an edge-list file.",
    untagged=Section({"file": Text(None, "Edge list source,target[,weight] (CSV), relative "
                                         "to the scenario file; nodes 0 .. n-1."),
                      "n": _N}, required=("file", "n")),
)


def _thresholds(absolute: bool) -> Tagged:
    hi = None if absolute else 1.0
    what = "count of adopting neighbours" if absolute else "share of adopting neighbours"

    def bound(doc: str) -> Num:
        return Num(None, 0.0, hi, f"{doc} ({what}).", _SOURCES)

    rule = ("Absolute thresholds: adopt when the weighted count of adopting neighbours >= "
            "threshold (complex contagion, Centola & Macy 2007)." if absolute else
            "Fractional thresholds: adopt when the weighted share of adopting neighbours "
            ">= threshold (Granovetter 1978; Watts 2002).")
    return Tagged(
        "distribution",
        {
            "constant": Section({"value": bound("Every node's threshold")},
                                required=("value",)),
            "uniform": Section({"low": bound("Lower end of uniform draws"),
                                "high": bound("Upper end of uniform draws (low <= high)")},
                               required=("low", "high")),
            "normal": Section({"mean": Num(None, None, None, "Mean of normal draws, not "
                                           "truncated.", "Granovetter 1978"),
                               "sd": Num(None, 0.0, None, "Standard deviation of normal "
                                         "draws.", "Granovetter 1978")},
                              required=("mean", "sd")),
            "values": Section({"values": ListOf(bound("One node's threshold"),
                                                "One threshold per node, in node order.")},
                              required=("values",)),
        },
        rule + " A bare number is a constant.",
        default="constant",
        bare="value",
    )


INITIAL_ADOPTERS = Section(
    {
        "random": Num(None, 0, _INT32_MAX, "K distinct nodes drawn uniformly; at most n.",
                      "Watts 2002", integer=True),
        "share": Num(None, 0.0, 1.0, "round(f n) distinct nodes drawn uniformly (halves "
                     "round up).", "scenario"),
        "nodes": ListOf(Num(None, 0, _INT32_MAX, "A node id, below n.", "scenario",
                            integer=True), "These nodes (distinct ids in 0 .. n-1)."),
    },
    "The seed of the cascade: exactly one of random, share or nodes.",
    one_of=(("random", "share", "nodes"),),
)

THRESHOLD = Section(
    {
        "kind": Choice(("threshold",), "threshold", "Scenario kind."),
        "name": Text(None, "Scenario name (defaults to the file name)."),
        "description": Text("", "What the scenario represents."),
        "network": NETWORK,
        "threshold": _thresholds(absolute=False),
        "absolute_threshold": _thresholds(absolute=True),
        "initial_adopters": INITIAL_ADOPTERS,
        "steps": Num(1000, 0, 10**7, "Step limit; a run stops early at a fixed point.",
                     "scenario", integer=True),
        "tipping_share": Num(1 / 3, 0.0, 1.0, "A run counts as a cascade when its adopter "
                             "share reaches this (1: every node).", "002:281–283",
                             lo_open=True),
        "record_agents": Flag(False, "Write the per-agent table (adoption step of every "
                              "node; large for large n)."),
    },
    "A generic threshold-diffusion scenario on any network.",
    required=("network", "initial_adopters"),
    one_of=(("threshold", "absolute_threshold"),),
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check(data: dict, ctx: _Context) -> None:
    """What depends on ``n``: degrees, thresholds per node, seed nodes; then memory."""
    before = len(ctx.problems)
    network = data.get("network") or {}
    n = network.get("n")
    if not _is_int(n):
        return  # the schema has said what is wrong with the network
    _check_network(network, n, ctx)
    for key in ("threshold", "absolute_threshold"):
        if isinstance(data.get(key), dict):
            _check_thresholds(data[key], n, key, ctx)
    _check_initial(data.get("initial_adopters") or {}, n, ctx)
    if len(ctx.problems) == before and not any(p.path.startswith("network")
                                               for p in ctx.problems):
        _check_memory(network, ctx)


def _check_network(network: dict, n: int, ctx: _Context) -> None:
    generator = network.get("generator")
    for key in ("k", "m", "mean_degree"):
        value = network.get(key)
        if value is None:
            continue
        where = f"network.{key}"
        if key == "m" and value > n - 1:
            ctx.fail(where, f"{value} is out of range; allowed: an integer >= 1 and <= n - 1 "
                     f"= {n - 1}")
        elif value > n - 1:
            ctx.fail(where, f"{value:g} is out of range; allowed: at most n - 1 = {n - 1}")
        elif generator in ("ring_lattice", "watts_strogatz") and key != "m" and value % 2:
            ctx.fail(where, f"{value} must be even (k/2 ties on either side); allowed: an "
                     f"even integer >= 0 and <= {n - 1}")
        elif generator == "barabasi_albert" and key == "mean_degree" and value % 2:
            ctx.fail(where, f"{value} must be 2m for an integer m; allowed: an even integer "
                     f">= 2 and <= {n - 1}")


def _check_thresholds(spec: dict, n: int, key: str, ctx: _Context) -> None:
    match spec.get("distribution"):
        case "uniform" if None not in (spec.get("low"), spec.get("high")):
            if spec["low"] > spec["high"]:
                ctx.fail(f"{key}.low", f"{spec['low']:g} must not exceed high "
                         f"({spec['high']:g}); allowed: low <= high")
        case "values" if spec.get("values") is not None:
            if len(spec["values"]) != n:
                ctx.fail(f"{key}.values", f"needs one threshold per node ({n}), got "
                         f"{len(spec['values'])}; allowed: a list of n = {n} thresholds")


def _check_initial(spec: dict, n: int, ctx: _Context) -> None:
    count = spec.get("random")
    if _is_int(count) and count > n:
        ctx.fail("initial_adopters.random", f"{count} is out of range; allowed: an integer "
                 f">= 0 and <= n = {n}")
    nodes = spec.get("nodes")
    if isinstance(nodes, list):
        for i, node in enumerate(nodes):
            if _is_int(node) and node >= n:
                ctx.fail(f"initial_adopters.nodes[{i}]", f"{node} is out of range; allowed: "
                         f"a node id >= 0 and <= n - 1 = {n - 1}")
        if len(set(nodes)) != len(nodes):
            ctx.fail("initial_adopters.nodes", "node ids must be distinct; allowed: each "
                     "node once")


_GIB = 2**30


def available_memory() -> int | None:
    """Bytes of memory this process may still use, or ``None`` if the system does not say.

    ``MemAvailable`` of ``/proc/meminfo`` (else the physical memory), capped by a cgroup
    limit when one is set (a container's share of the machine).
    """
    found: list[int] = []
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
    if not found:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            found.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError):
            found.append(int(Path(limit).read_text().strip()))  # "max": no limit
    return min(found) if found else None


def _check_memory(network: dict, ctx: _Context) -> None:
    """Refuse a network whose graph and engine cannot fit in this machine's memory."""
    network = generator_keys(network)
    n = network["n"]
    running = network_bytes(network) + AGENT_BYTES * n
    needed = max(build_bytes(network), running)
    limit = available_memory()
    if limit is None or needed <= limit:
        return
    what = network.get("generator", "edge-list")
    ties = expected_ties(network)
    count = "" if ties is None else f"{ties:,} ties x {TIE_BYTES} B + "
    ctx.fail("network", f"a {what} network with n = {n:,} needs about {needed / _GIB:,.1f} "
             f"GiB of memory (the graph and engine alone {running / _GIB:,.1f} GiB: "
             f"{count}{n:,} nodes x {NODE_BYTES + AGENT_BYTES} B), more than the "
             f"{limit / _GIB:,.1f} GiB available here; allowed: a network that fits "
             "(fewer nodes or ties)")
