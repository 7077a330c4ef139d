"""ViTFeaturePyramid: four stride-16 ViT maps -> strides 4, 8, 16, 32, feeding mmdet's FPN."""
import pytest
import torch
from mmengine.registry import DefaultScope

import mmssl_ext  # noqa: F401
from mmssl_ext.models.necks import ViTFeaturePyramid


def test_scales_and_exact_branches():
    torch.manual_seed(0)
    neck = ViTFeaturePyramid(embed_dims=8).eval()
    maps = [torch.randn(2, 8, 6, 4) for _ in range(4)]
    outs = neck(maps)
    assert [tuple(o.shape[-2:]) for o in outs] == [(24, 16), (12, 8), (6, 4), (3, 2)]
    assert outs[2] is maps[2]
    torch.testing.assert_close(outs[3], maps[3].unflatten(2, (3, 2)).unflatten(4, (2, 2))
                               .amax((3, 5)))
    # a 2x2 stride-2 transposed conv writes each input cell into its own 2x2 block
    weight, bias = neck.up2.weight, neck.up2.bias
    expected = torch.einsum('bchw,cdij->bdhiwj', maps[1], weight).reshape(2, 8, 12, 8)
    torch.testing.assert_close(outs[1], expected + bias.view(1, -1, 1, 1))


def test_feeds_mmdet_fpn_from_a_vit():
    from mmdet.registry import MODELS as DET_MODELS
    from mmdet.utils import register_all_modules

    register_all_modules(False)
    with DefaultScope.overwrite_default_scope('mmdet'):
        neck = DET_MODELS.build([
            dict(type='ViTFeaturePyramid', embed_dims=16),
            dict(type='FPN', in_channels=[16] * 4, out_channels=8, num_outs=5)])
        backbone = DET_MODELS.build(dict(
            type='mmpretrain.VisionTransformer',
            arch=dict(embed_dims=16, num_layers=12, num_heads=2, feedforward_channels=32),
            img_size=64, patch_size=16, out_indices=(3, 5, 7, 11), out_type='featmap',
            final_norm=False))
    outs = neck(backbone(torch.randn(1, 3, 64, 64)))
    assert [tuple(o.shape[-2:]) for o in outs] == [(16, 16), (8, 8), (4, 4), (2, 2), (1, 1)]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match='embed_dims'):
        ViTFeaturePyramid(embed_dims=0)
    with pytest.raises(ValueError, match='4 feature maps'):
        ViTFeaturePyramid(embed_dims=4)([torch.zeros(1, 4, 2, 2)] * 3)
