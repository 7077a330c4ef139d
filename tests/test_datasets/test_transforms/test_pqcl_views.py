"""PQCLViews: crops keep their geometry; masks, coordinates and packing."""
import math
import random

import numpy as np
import pytest
import torch

from mmssl_ext.datasets.transforms import PackPQCLInputs, PQCLViews
from mmssl_ext.structures import query_patch_coords


def _image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)


def test_shapes_and_coords_follow_the_boxes():
    np.random.seed(0)
    views = PQCLViews(global_size=64, query_size=32, patch_size=8, num_queries=2,
                      flip_prob=0.5, mask_prob=1.0)
    flips = []
    for _ in range(8):
        out = views.transform(dict(img=_image()))
        assert out['global_views'].shape == (2, 64, 64, 3)
        assert out['query_views'].shape == (2, 32, 32, 3)
        assert out['query_coords'].shape == (2, 2, 16, 2)
        assert out['masks'].shape == (2, 8, 8) and out['masks'].dtype == bool
        ratios = out['masks'].reshape(2, -1).mean(1)
        assert ((ratios > 0) & (ratios <= 0.5)).all()  # iBOT stops short of the target
        for g in range(2):
            for q in range(2):
                expected = query_patch_coords(out['query_boxes'][q], out['global_boxes'][g],
                                              out['global_flips'][g], (8, 8), (4, 4))
                assert np.allclose(out['query_coords'][g, q], expected.numpy())
        flips += list(out['global_flips'])
    assert any(flips) and not all(flips)


def test_global_view_pixels_are_the_flipped_crop():
    np.random.seed(1)
    image = np.tile(np.arange(160, dtype=np.uint8)[None, :, None], (120, 1, 3))
    views = PQCLViews(global_size=64, query_size=32, patch_size=8, flip_prob=1.0,
                      interpolation='nearest')
    out = views.transform(dict(img=image))
    row = out['global_views'][0, 0, :, 0].astype(int)
    assert (np.diff(row) <= 0).all()  # columns decrease: the crop was mirrored


def test_unmasked_views_when_mask_prob_zero():
    out = PQCLViews(global_size=64, query_size=32, patch_size=8,
                    mask_prob=0.).transform(dict(img=_image()))
    assert not out['masks'].any()


def test_pack_inputs():
    out = PQCLViews(global_size=64, query_size=32, patch_size=8).transform(
        dict(img=_image(), img_path='x.jpg'))
    packed = PackPQCLInputs().transform(out)
    globals_, queries = packed['inputs']
    sample = packed['data_samples']
    assert globals_.shape == (2, 3, 64, 64) and globals_.dtype == torch.uint8
    assert queries.shape == (1, 3, 32, 32) and sample.query_coords.shape == (2, 1, 16, 2)
    assert sample.mask.shape == (2, 8, 8) and sample.mask.dtype == torch.bool
    np.testing.assert_array_equal(sample.query_coords.numpy(), out['query_coords'])
    assert packed['data_samples'].global_boxes.shape == (2, 4)


def _ibot_mask(rng, grid, ratio, aspect=(0.3, 1 / 0.3)):
    """iBOT's / PQCL's loader mask (ImageFolderMask, pred_shape='block') on a square
    grid, with Python's ``random`` as there: blocks of area U((grid // 3)^2, budget
    left) are added while one of 10 draws fits the unrounded budget ratio * grid^2."""
    mask = np.zeros((grid, grid), dtype=bool)
    budget, masked = ratio * grid * grid, 0
    while masked < budget:
        added = 0
        for _ in range(10):
            area = rng.uniform((grid // 3)**2, budget - masked)
            ratio_hw = math.exp(rng.uniform(math.log(aspect[0]), math.log(aspect[1])))
            h, w = int(round(math.sqrt(area * ratio_hw))), int(round(math.sqrt(area / ratio_hw)))
            if h < grid and w < grid:
                top, left = rng.randint(0, grid - h), rng.randint(0, grid - w)
                new = h * w - int(mask[top:top + h, left:left + w].sum())
                if 0 < new <= budget - masked:
                    mask[top:top + h, left:left + w] = True
                    added = new
            if added:
                break
        if not added:
            break
        masked += added
    return mask


def _components(mask):
    """Number of 4-connected masked regions."""
    labels, count = np.zeros(mask.shape, dtype=int), 0
    for start in zip(*np.nonzero(mask)):
        if labels[start]:
            continue
        count += 1
        stack, labels[start] = [start], count
        while stack:
            i, j = stack.pop()
            for cell in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
                if (0 <= cell[0] < mask.shape[0] and 0 <= cell[1] < mask.shape[1]
                        and mask[cell] and not labels[cell]):
                    labels[cell] = count
                    stack.append(cell)
    return count


def test_masks_follow_ibots_block_statistics():
    """Same ratios on 14 x 14: masked fraction and number of blocks as iBOT's loader
    (16-patch smallest block, stop after 10 failed draws); the former 4-patch exact
    masks had 2.4 blocks per mask against iBOT's 1.3."""
    rng = random.Random(0)
    ratios = [rng.uniform(0.1, 0.5) for _ in range(1500)]
    reference = [_ibot_mask(rng, 14, ratio) for ratio in ratios]
    views = PQCLViews(global_size=224, query_size=96, patch_size=16, mask_prob=1.,
                      mask_ratio=(0.1, 0.5))
    assert views.min_mask_patches == 16
    np.random.seed(0)
    ours = [views._mask() for _ in ratios]
    for statistic, tolerance in ((np.mean, 0.01), (_components, 0.1)):
        expected = np.mean([statistic(mask) for mask in reference])
        assert np.mean([statistic(mask) for mask in ours]) == pytest.approx(
            expected, abs=tolerance)
    assert np.mean([_components(mask) for mask in reference]) < 1.5


@pytest.mark.parametrize('kwargs, name', [
    (dict(min_mask_patches=0), 'min_mask_patches'),
    (dict(global_size=64, query_size=96, patch_size=16), 'query_size'),
    (dict(num_global_views=0), 'num_global_views'),
    (dict(num_queries=0), 'num_queries'),
    (dict(global_size=60, patch_size=16), 'global_size'),
])
def test_bad_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        PQCLViews(**kwargs)


def test_query_inside_keeps_queries_within_the_global_views():
    def inside_fraction(**kwargs):
        np.random.seed(3)
        views = PQCLViews(global_size=64, query_size=32, patch_size=8, mask_prob=0.,
                          **kwargs)
        inside = []
        for _ in range(40):
            out = views.transform(dict(img=_image()))
            (top, left, height, width), = out['query_boxes']
            inside.append(all(top >= t and left >= l and top + height <= t + h
                              and left + width <= l + w
                              for t, l, h, w in out['global_boxes']))
            if inside[-1]:  # then every query patch lies in the global grid
                assert (out['query_coords'] >= -1e-4).all()
                assert (out['query_coords'] < 8).all()
        return np.mean(inside)

    # two global crops need not overlap enough for any query box to fit in both
    restricted = inside_fraction(query_inside=True, max_query_attempts=50)
    default = inside_fraction()
    assert restricted > 0.7 and default < 0.5, (restricted, default)


@pytest.mark.parametrize('flip_prob', [0., 1.])
def test_query_coords_point_at_the_same_pixels_in_the_global_view(flip_prob):
    # channel 0 = original column, channel 1 = original row: a crop's pixels tell where
    # they came from, so each query patch can be found in the (flipped) global view.
    cols, rows = np.meshgrid(np.arange(256), np.arange(256))
    image = np.stack([cols, rows, np.zeros_like(cols)], -1).astype(np.uint8)
    np.random.seed(5)
    views = PQCLViews(global_size=64, query_size=32, patch_size=8, flip_prob=flip_prob,
                      global_scale=(0.5, 1.), query_scale=(0.05, 0.1), query_inside=True,
                      interpolation='nearest')
    checked = 0
    for _ in range(10):
        out = views.transform(dict(img=image))
        query = out['query_views'][0].astype(float)
        for g in range(2):
            view = out['global_views'][g].astype(float)
            # original pixels per view pixel (x, y): the tolerance of nearest sampling
            scale = out['global_boxes'][g][[3, 2]] / 64
            coords = out['query_coords'][g, 0]  # (16, 2) corners, row-major 4 x 4
            step_x = abs(coords[1, 0] - coords[0, 0])
            step_y = coords[4, 1] - coords[0, 1]
            for index, (x, y) in enumerate(coords):
                r, c = divmod(index, 4)
                expected = query[8 * r + 4, 8 * c + 4, :2]  # centre of the query patch
                u = int((x + step_x / 2) * 8)  # centre in global-view pixels
                v = int((y + step_y / 2) * 8)
                if 0 <= u < 64 and 0 <= v < 64:
                    assert (np.abs(view[v, u, :2] - expected) <= 2 * scale + 1).all()
                    checked += 1
    assert checked > 100
