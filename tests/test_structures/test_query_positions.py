"""Relative positions of query patches and their sin-cos embeddings (PQCL)."""
import math

import pytest
import torch

from mmssl_ext.models.utils import sincos_2d_embed, sincos_2d_table
from mmssl_ext.structures import query_patch_coords

GLOBAL_BOX = (20., 40., 112., 224.)  # top, left, h, w: 16 px per patch in x, 8 in y
QUERY_BOX = (36., 72., 48., 96.)  # 2 x 2 query grid: 48 x 24 px per query patch


def _hand_coords(flipped):
    # x: (72 - 40) / 16 = 2, step 48 / 16 = 3; y: (36 - 20) / 8 = 2, step 24 / 8 = 3
    xs = [2., 5.]
    if flipped:  # [x, x + 3) mirrored in a 14-wide grid -> [14 - x - 3, 14 - x)
        xs = [9., 6.]
    return torch.tensor([[xs[0], 2.], [xs[1], 2.], [xs[0], 5.], [xs[1], 5.]])


@pytest.mark.parametrize('flipped', [False, True])
def test_coords_match_hand_computation(flipped):
    coords = query_patch_coords(QUERY_BOX, GLOBAL_BOX, flipped, (14, 14), (2, 2))
    assert torch.equal(coords, _hand_coords(flipped))


@pytest.mark.parametrize('flipped', [False, True])
def test_relative_pe_is_sincos_of_hand_coords(flipped):
    dims = 8
    embed = sincos_2d_embed(query_patch_coords(QUERY_BOX, GLOBAL_BOX, flipped, (14, 14),
                                               (2, 2)), dims)
    omega = [10000**(-k / 2) for k in range(2)]
    for (x, y), row in zip(_hand_coords(flipped).tolist(), embed):
        expected = ([math.sin(x * w) for w in omega] + [math.cos(x * w) for w in omega]
                    + [math.sin(y * w) for w in omega] + [math.cos(y * w) for w in omega])
        assert torch.allclose(row, torch.tensor(expected), atol=1e-6)


def test_flipped_query_lands_on_the_flipped_pixels():
    # A query crop equal to the global box covers the whole grid either way, mirrored.
    coords = query_patch_coords(GLOBAL_BOX, GLOBAL_BOX, True, (14, 14), (14, 14))
    assert torch.equal(coords[:14, 0], torch.arange(13., -1., -1.))
    assert torch.equal(coords[::14, 1], torch.arange(14.))


def test_embed_matches_the_backbone_table_at_integer_positions():
    table = sincos_2d_table((3, 5), 16, cls_token=False)[0]
    rows, cols = torch.meshgrid(torch.arange(3.), torch.arange(5.), indexing='ij')
    coords = torch.stack([cols, rows], -1).reshape(-1, 2)
    assert torch.allclose(sincos_2d_embed(coords, 16), table, atol=1e-6)


def test_embed_rejects_bad_dims():
    with pytest.raises(ValueError, match='embed_dims'):
        sincos_2d_embed(torch.zeros(3, 2), 6)
