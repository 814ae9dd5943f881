"""The threshold scenario schema, and the checks its engine makes: shapes and memory.

The network, thresholds and initial adopters are :class:`~normsim.schema.Checked` values:
the engine's own validators (:func:`normsim.models.threshold.dynamics.validate_threshold_scenario`)
check them in :func:`check`, which also refuses a network that cannot fit in memory.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from normsim.models.threshold.dynamics import AGENT_BYTES, validate_threshold_scenario
from normsim.models.threshold.networks import (
    NODE_BYTES,
    TIE_BYTES,
    build_bytes,
    expected_ties,
    network_bytes,
)
from normsim.schema import Checked, Choice, Flag, Num, Section, Text, _Context

THRESHOLD = Section(
    {
        "kind": Choice(("threshold",), "threshold", "Scenario kind."),
        "name": Text(None, "Scenario name (defaults to the file name)."),
        "description": Text("", "What the scenario represents."),
        "network": Checked("A generator (erdos_renyi, complete, ring_lattice, "
                           "watts_strogatz, barabasi_albert) with n and its keys, or an "
                           "edge-list file with n.", form="generator: NAME, n, ... | file, n"),
        "threshold": Checked("Fractional thresholds: adopt when the weighted share of "
                             "adopting neighbours >= threshold (Granovetter 1978; Watts 2002).",
                             form="a number, or distribution: constant|uniform|normal|values"),
        "absolute_threshold": Checked("Instead of threshold: a count of adopting neighbours "
                                      "(complex contagion, Centola & Macy 2007).",
                                      form="a number, or distribution: ..."),
        "initial_adopters": Checked("The seed of the cascade.",
                                    form="one of random: K, share: f, nodes: [ids]"),
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
)


def check(data: dict, ctx: _Context) -> None:
    """Let the threshold engine check the network, thresholds and initial adopters."""
    if ("threshold" in data) == ("absolute_threshold" in data):
        ctx.fail("threshold", "give exactly one of threshold or absolute_threshold")
        return
    try:
        canonical = validate_threshold_scenario(data)
    except ValueError as err:
        path, _, message = str(err).partition(": ")
        ctx.fail(path, message or path)
        return
    _check_memory(canonical["network"], ctx)


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
