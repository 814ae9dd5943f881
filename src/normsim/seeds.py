"""The one seed scheme: every run's integer seed from the master seed and the run's key.

A run's stream is ``numpy.random.SeedSequence(master, spawn_key=key)``; its
``generate_state(1, uint64)[0] >> 1`` (a non-negative 63-bit integer) is the seed written
in the run's rows, and ``numpy.random.default_rng(seed)`` replays the run. The key of
replicate ``r`` of a scenario is ``(r,)``, the same stream as
``SeedSequence(master).spawn(n)[r]``; the key of replicate ``r`` of sweep point ``p`` is
``(p, r)``, the same as ``SeedSequence(master).spawn(points)[p].spawn(replicates)[r]``. A
run's result therefore depends on the master seed and its key only: not on the engine, the
batch size, the number of workers or the order of execution.
"""

from __future__ import annotations

import numpy as np


def run_seed(master: int, *key: int) -> int:
    """The integer seed of the run with spawn key ``key`` under ``master``.

    Args:
        master: the master seed.
        *key: the run's spawn key: ``(replicate,)``, or ``(point, replicate)`` in a sweep.

    Returns:
        A non-negative 63-bit integer.
    """
    sequence = np.random.SeedSequence(master, spawn_key=key)
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def replicate_seeds(master: int, replicates: int) -> list[int]:
    """One seed per replicate: those of ``SeedSequence(master).spawn(replicates)``."""
    return [run_seed(master, r) for r in range(replicates)]
