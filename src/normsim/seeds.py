"""The one seed scheme: every run's integer seed, and the random numbers a seed stands for.

**Run seeds.** Runs are seeded in blocks of :data:`BLOCK` (1024). A run seed is a
non-negative 63-bit integer whose high 53 bits are the seed of the run's block and whose
low 10 bits are the run's *position* in it (:func:`block_of`). Block ``b`` of a scenario's
replicates has the stream ``numpy.random.SeedSequence(master, spawn_key=(b,))`` (the same as
``SeedSequence(master).spawn(blocks)[b]``), and its ``generate_state(1, uint64)[0] >> 11``
is the block seed; replicate ``r`` is at position ``r % 1024`` of block ``r // 1024``
(:func:`replicate_seeds`). In a sweep, replicate ``r`` of point ``p`` is in the block of
key ``(p, r // 1024)`` (:func:`run_seed`). The seed is written in every row of the run.

**What a seed stands for** is up to the model kind, and depends on the seed alone:

- the region kind draws its numbers in bulk, a block at a time (:class:`StepNormals`): at
  step ``t`` the generator ``numpy.random.default_rng(SeedSequence(block_seed,
  spawn_key=(t,)))`` draws a ``(k, width)`` array of standard normals, ``k`` being 1 + the
  largest position needed, and the run at position ``p`` reads row ``p``. A C-order fill
  draws row after row, so row ``p`` is the same whatever ``k``. ``kind.simulate(scenario,
  [seed])`` replays a run alone;
- the threshold kind seeds one generator per run, ``numpy.random.default_rng(seed)``.

A run's result therefore depends on the master seed and its key only: not on the engine,
the batch size, the chunking, the number of workers or the order of execution; more
replicates later add runs without changing the first ones. Any non-negative integer is a
seed: one not made here (a user's) is read the same way, a block of its own with the
position in its low 10 bits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

POSITION_BITS = 10
BLOCK = 1 << POSITION_BITS
"""Runs per block: the low :data:`POSITION_BITS` bits of a run seed are its position."""


def block_seed(master: int, *key: int) -> int:
    """The seed of the block with spawn key ``key`` under ``master``: 53 bits.

    Args:
        master: the master seed.
        *key: the block's spawn key: ``(block,)``, or ``(point, block)`` in a sweep.
    """
    sequence = np.random.SeedSequence(master, spawn_key=key)
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1 + POSITION_BITS))


def run_seed(master: int, *key: int) -> int:
    """The integer seed of the run with key ``key`` under ``master``.

    Args:
        master: the master seed.
        *key: the run's key, its replicate last: ``(replicate,)``, or ``(point,
            replicate)`` in a sweep. Replicate ``r`` is at position ``r % BLOCK`` of the
            block keyed by the rest of the key and ``r // BLOCK``.

    Returns:
        A non-negative 63-bit integer: the block seed, then 10 bits of position.
    """
    *head, replicate = key
    block, position = divmod(replicate, BLOCK)
    return (block_seed(master, *head, block) << POSITION_BITS) | position


def replicate_seeds(master: int, replicates: int) -> list[int]:
    """One seed per replicate: ``run_seed(master, r)`` for ``r < replicates``."""
    seeds: list[int] = []
    for block in range(-(-replicates // BLOCK)):
        base = block_seed(master, block) << POSITION_BITS
        seeds += range(base, base + min(BLOCK, replicates - block * BLOCK))
    return seeds


def scheme(master: str = "master_seed", key: str = "b") -> str:
    """The seed scheme in one line, for metadata files.

    Args:
        master: what the master seed is called.
        key: the block's spawn key in words (``b``, or ``p, b`` for point ``p``).
    """
    return (f"runs in blocks of {BLOCK}: replicate r is at position r % {BLOCK} of block "
            f"b = r // {BLOCK}, whose seed is numpy.random.SeedSequence({master}, "
            f"spawn_key=({key},)).generate_state(1, uint64)[0] >> 11; the row's seed is "
            "block seed << 10 | position")


def block_of(seed: int) -> tuple[int, int]:
    """A run seed's block seed and position: ``(seed >> 10, seed & 1023)``."""
    if seed < 0:
        raise ValueError(f"a seed is a non-negative integer, not {seed}")
    return seed >> POSITION_BITS, seed & (BLOCK - 1)


class StepNormals:
    """The standard normals of a batch of runs, one ``(R, width)`` array per step.

    Step ``t``'s numbers of the run with seed ``s`` are row ``p`` of the ``(k, width)``
    standard normals that ``default_rng(SeedSequence(b, spawn_key=(t,)))`` draws, where
    ``(b, p) = block_of(s)`` and ``k`` is 1 + the largest position of the batch in block
    ``b``: the same numbers whatever else the batch holds. Any step can be drawn, in any
    order, as often as asked.

    Args:
        seeds: the runs' seeds (non-negative integers), in the batch's order.
        width: the numbers per run and step.
    """

    def __init__(self, seeds: Sequence[int], width: int):
        self.width = width
        self.runs = len(seeds)
        try:
            values = np.asarray(seeds, dtype=np.int64).reshape(-1)
        except OverflowError:  # seeds beyond 63 bits: held as Python integers
            values = np.asarray([int(s) for s in seeds], dtype=object).reshape(-1)
        if len(values) and (values < 0).any():
            raise ValueError("a seed is a non-negative integer")
        blocks, positions = values >> POSITION_BITS, values & (BLOCK - 1)
        keys, first, inverse = np.unique(blocks, return_index=True, return_inverse=True)
        order = np.argsort(inverse, kind="stable")
        members = np.split(order, np.cumsum(np.bincount(inverse, minlength=len(keys)))[:-1])
        # (block seed, run indices, their rows, rows drawn, a slice if the runs are the
        # rows 0..k-1 in order), in the order the blocks first appear
        self._blocks: list[tuple[int, np.ndarray, np.ndarray, int, slice | None]] = []
        for u in np.argsort(first, kind="stable"):
            runs = members[u]
            rows = positions[runs].astype(np.intp)
            k = int(rows.max()) + 1
            start = int(runs[0])
            whole = (len(runs) == k and (rows == np.arange(k)).all()
                     and (runs == np.arange(start, start + k)).all())
            self._blocks.append((int(keys[u]), runs, rows, k,
                                 slice(start, start + k) if whole else None))

    def __call__(self, step: int) -> np.ndarray:
        """(R, width) step ``step``'s standard normals, one row per run."""
        out = np.empty((self.runs, self.width))
        for block, runs, rows, k, whole in self._blocks:
            generator = np.random.default_rng(np.random.SeedSequence(block, spawn_key=(step,)))
            if whole is not None:  # the runs are the block's first k rows, in order
                generator.standard_normal(out=out[whole])
            else:
                out[runs] = generator.standard_normal((k, self.width))[rows]
        return out
