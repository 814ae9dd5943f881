"""The seed scheme: run seeds in blocks, and the block streams a run's numbers come from."""

import numpy as np
import pytest

from normsim.seeds import BLOCK, StepNormals, block_of, block_seed, replicate_seeds, run_seed


def _rows(block: int, step: int, k: int, width: int) -> np.ndarray:
    """What the module docstring says a block draws at a step."""
    sequence = np.random.SeedSequence(block, spawn_key=(step,))
    return np.random.default_rng(sequence).standard_normal((k, width))


def test_a_run_seed_is_its_block_seed_and_its_position():
    seeds = replicate_seeds(5, 2 * BLOCK + 3)
    assert seeds[: BLOCK + 1] == replicate_seeds(5, BLOCK + 1)  # more replicates add runs
    assert all(isinstance(s, int) and 0 <= s < 2**63 for s in seeds)
    assert len(set(seeds)) == len(seeds)
    for r in (0, 1, BLOCK - 1, BLOCK, 2 * BLOCK + 2):
        assert block_of(seeds[r]) == (block_seed(5, r // BLOCK), r % BLOCK)
        assert seeds[r] == run_seed(5, r)
    assert block_of(run_seed(5, 3, BLOCK + 7)) == (block_seed(5, 3, 1), 7)
    assert block_seed(5, 0) < 2**53 and block_seed(5, 0) != block_seed(6, 0)


@pytest.mark.parametrize("width", [1, 10])
def test_a_blocks_rows_do_not_depend_on_how_many_are_drawn(width):
    """A C-order fill is sequential: the first rows of a larger draw are the smaller draw."""
    for step in (0, 1, 16):
        big = _rows(123_456_789, step, BLOCK, width)
        for k in (1, 2, 3, 17, 500, BLOCK - 1):
            np.testing.assert_array_equal(_rows(123_456_789, step, k, width), big[:k])


def test_step_normals_read_row_position_of_the_blocks_draw():
    seeds = replicate_seeds(9, BLOCK + 40)
    normals = StepNormals(seeds, 10)
    for step in (0, 3):
        drawn = normals(step)
        assert drawn.shape == (len(seeds), 10)
        first, second = block_of(seeds[0])[0], block_of(seeds[BLOCK])[0]
        np.testing.assert_array_equal(drawn[:BLOCK], _rows(first, step, BLOCK, 10))
        np.testing.assert_array_equal(drawn[BLOCK:], _rows(second, step, 40, 10))
    assert not np.array_equal(normals(1), normals(2))
    np.testing.assert_array_equal(normals(5), normals(5))  # any step, as often as asked


def test_a_runs_numbers_depend_on_its_seed_only():
    seeds = replicate_seeds(9, BLOCK + 40)
    together = StepNormals(seeds, 10)
    rng = np.random.default_rng(0)
    for chosen in ([0], [BLOCK - 1], [BLOCK + 39, 3], list(rng.permutation(len(seeds))[:50])):
        alone = StepNormals([seeds[i] for i in chosen], 10)
        for step in (0, 7):
            np.testing.assert_array_equal(alone(step), together(step)[chosen])


def test_any_non_negative_integer_is_a_seed():
    for seed in (0, 42, 2**63 - 1, 2**70 + 5):  # a user's seed: a block of its own
        block, position = block_of(seed)
        np.testing.assert_array_equal(StepNormals([seed], 3)(2),
                                      _rows(block, 2, position + 1, 3)[position:])
    assert StepNormals([], 3)(0).shape == (0, 3)
    with pytest.raises(ValueError, match="non-negative"):
        StepNormals([-1], 3)
    with pytest.raises(ValueError, match="non-negative"):
        block_of(-1)
