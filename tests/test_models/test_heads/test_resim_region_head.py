"""ReSimRegionHead built from the paper configs: the reference's window grid and its 3x3
dense negatives, against transcriptions of the reference's arithmetic."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def _head(config, **override):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'resim', config)).model.region_head
    cfg.update(override)
    return MODELS.build(cfg)


def _reference_windows(count, window, stride):
    """The reference dataset's query windows: count x count starts, row-major, minus any
    window reaching the 224 px edge."""
    return [[j * stride, i * stride, j * stride + window, i * stride + window]
            for i in range(count) for j in range(count)
            if max(i, j) * stride + window < 224]


def _reference_dense(maps, kernel=3):
    """Average over every kernel x kernel patch at stride 1, then unit length over the
    channels: (B, C, H, W) -> (B, C, H - kernel + 1, W - kernel + 1), in numpy."""
    maps = maps.numpy().astype(np.float64)
    out_h, out_w = maps.shape[2] - kernel + 1, maps.shape[3] - kernel + 1
    pooled = sum(maps[:, :, dy:dy + out_h, dx:dx + out_w]
                 for dy in range(kernel) for dx in range(kernel)) / kernel ** 2
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


@pytest.mark.parametrize('config, grids', [
    ('resim-fpn_r50_200e_in1k.py', {'p3': (8, 32, 24), 'p4': (6, 48, 32)}),
    ('resim-c4_r50_200e_in1k.py', {'c4': (6, 48, 32)}),
])
def test_paper_configs_use_the_reference_window_grid(config, grids):
    head = _head(config)
    for name, windows in zip(head.level_names, head.window_boxes()):
        assert windows.tolist() == _reference_windows(*grids[name]), name
    edge = _head(config, edge_windows=True)  # ours: every window that fits
    counts = {name: len(w) for name, w in zip(edge.level_names, edge.window_boxes())}
    assert counts == {'p3': 81, 'p4': 36} if 'fpn' in config else {'c4': 36}


def test_reference_variant_pools_dense_negatives_3x3():
    head = _head('resim-fpn_r50_200e_in1k_reference-variant.py')
    assert head.negatives == 'dense' and head.dense_kernels == (3, 3)
    generator = torch.Generator().manual_seed(0)
    maps = [torch.randn(2, 6, 224 // stride, 224 // stride, generator=generator)
            for stride in head.strides]  # P3 28 x 28, P4 14 x 14
    dense = head.dense(maps)
    assert [tuple(d.shape) for d in dense] == [(2, 6, 26, 26), (2, 6, 12, 12)]
    for ours, level in zip(dense, maps):
        np.testing.assert_allclose(ours.numpy(), _reference_dense(level), atol=1e-5)
    # the appendix's counts for 8 GPUs x 32 images: P3 per GPU, P4 from all GPUs
    gathers = [loss.gather for loss in head.loss_modules]
    p3, p4 = (d.shape[-2] * d.shape[-1] * (8 if gather else 1) * 32
              for d, gather in zip(dense, gathers))
    assert (p3, p4) == (26 * 26 * 256 // 8, 12 * 12 * 256) == (21632, 36864)
    former = _head('resim-fpn_r50_200e_in1k_reference-variant.py', dense_kernels=(4, 3))
    assert former.dense(maps)[0].shape[-2:] == (25, 25)  # round(32 / 8): 625 per image


@pytest.mark.parametrize('override, match', [
    (dict(dense_kernels=(3, )), 'dense_kernels must be one kernel or one per level \\(2\\)'),
    (dict(dense_kernels=15), 'dense_kernels'),  # P4 maps are 14 x 14 at 224 px
    (dict(dense_kernels=0), 'dense_kernels'),
])
def test_bad_dense_kernels_name_the_parameter(override, match):
    with pytest.raises(ValueError, match=match):
        _head('resim-fpn_r50_200e_in1k_reference-variant.py', **override)
    if override != dict(dense_kernels=(3, )):  # unused without dense negatives
        _head('resim-fpn_r50_200e_in1k.py', **override)
