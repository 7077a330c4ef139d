"""BlockwiseMaskGenerator: exact counts, every block offset reachable, build-time checks."""
import numpy as np
import pytest

import mmssl_ext  # noqa: F401
from mmpretrain.registry import TRANSFORMS
from mmssl_ext.datasets.transforms import BlockwiseMaskGenerator


@pytest.mark.parametrize('grid,count,min_patches', [(14, 98, 16), (14, 75, 16), ((6, 9), 20, 4),
                                                    (8, 32, 4), (4, 15, 1)])
def test_mask_count_is_exact_over_many_draws(grid, count, min_patches):
    np.random.seed(0)
    generator = BlockwiseMaskGenerator(input_size=grid, num_masking_patches=count,
                                       min_num_patches=min_patches)
    shape = (grid, grid) if isinstance(grid, int) else grid
    for _ in range(300):
        mask = generator({})['mask']
        assert mask.shape == shape and mask.dtype == bool
        assert int(mask.sum()) == count


def test_mask_ratio_and_registry():
    generator = TRANSFORMS.build(dict(type='BlockwiseMaskGenerator', input_size=14,
                                      mask_ratio=0.5))
    assert generator.num_masking_patches == 98
    assert int(generator({})['mask'].sum()) == 98


def test_inexact_masks_stop_when_no_block_fits():
    """exact=False (BEiT / iBOT): never above the unrounded budget, often below; blocks
    may be drawn larger than the budget left (min_num_patches above it)."""
    np.random.seed(3)
    generator = BlockwiseMaskGenerator(input_size=14, mask_ratio=0.3, min_num_patches=16,
                                       exact=False)
    assert generator.budget == pytest.approx(0.3 * 196)
    counts = np.array([generator.generate().sum() for _ in range(300)])
    assert counts.max() <= 58 and counts.min() > 0
    assert (counts < 58).mean() > 0.25
    BlockwiseMaskGenerator(input_size=14, num_masking_patches=10, min_num_patches=16,
                           exact=False)  # allowed: iBOT draws U(16, 10)
    with pytest.raises(ValueError, match='min_num_patches'):
        BlockwiseMaskGenerator(input_size=14, num_masking_patches=10, min_num_patches=16)


def test_masks_are_blocks_not_scattered_patches():
    """With one block per mask (count = a block area), the mask is a filled rectangle."""
    np.random.seed(1)
    generator = BlockwiseMaskGenerator(input_size=14, num_masking_patches=16,
                                       min_num_patches=16, max_aspect=1., min_aspect=1.)
    for _ in range(50):
        rows, cols = np.nonzero(generator.generate())
        assert (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1) == 16


def test_every_block_offset_is_reachable():
    """Each patch, last row and column included, is masked by some draw; a generator
    whose offsets stop one short of the border (an exclusive upper bound) never masks
    the last row or column when a mask is a single block."""
    np.random.seed(2)
    generator = BlockwiseMaskGenerator(input_size=6, num_masking_patches=4, min_num_patches=4,
                                       min_aspect=1., max_aspect=1.)
    tops, lefts = set(), set()
    hits = np.zeros((6, 6), dtype=int)
    for _ in range(600):
        mask = generator.generate()
        hits += mask
        rows, cols = np.nonzero(mask)
        tops.add(int(rows.min()))
        lefts.add(int(cols.min()))
    assert tops == lefts == set(range(5))  # a 2x2 block fits at offsets 0..4
    assert (hits > 0).all()


@pytest.mark.parametrize('kwargs,name', [
    (dict(num_masking_patches=0), 'num_masking_patches'),
    (dict(num_masking_patches=196), 'num_masking_patches'),
    (dict(num_masking_patches=300), 'num_masking_patches'),
    (dict(mask_ratio=0.), 'mask_ratio'),
    (dict(mask_ratio=1.), 'mask_ratio'),
    (dict(mask_ratio=0.001), 'num_masking_patches'),
    (dict(num_masking_patches=98, mask_ratio=0.5), 'exactly one'),
    (dict(), 'exactly one'),
    (dict(num_masking_patches=98, min_num_patches=0), 'min_num_patches'),
    (dict(num_masking_patches=10, min_num_patches=16), 'min_num_patches'),
    (dict(num_masking_patches=98, min_num_patches=16, max_num_patches=8), 'max_num_patches'),
    (dict(num_masking_patches=98, min_aspect=0.), 'min_aspect'),
    (dict(input_size=(1, 14), num_masking_patches=3, min_num_patches=1), 'input_size'),
    (dict(input_size=2, num_masking_patches=2, min_num_patches=2), 'min_num_patches'),
])
def test_unachievable_settings_fail_at_build(kwargs, name):
    kwargs.setdefault('input_size', 14)
    with pytest.raises(ValueError, match=name):
        BlockwiseMaskGenerator(**kwargs)
