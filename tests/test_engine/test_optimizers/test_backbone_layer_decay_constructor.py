"""Layer-wise lr decay groups for a 12-block ViT inside classifiers, detectors, segmentors."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from torch import nn

import mmssl_ext  # noqa: F401
from mmpretrain.models import ImageClassifier, VisionTransformer

ARCH = dict(embed_dims=16, num_layers=12, num_heads=2, feedforward_channels=32)
RATE, LR, WD = 0.65, 1e-3, 0.05
PARAMWISE = dict(layer_decay_rate=RATE, norm_decay_mult=0.0, bias_decay_mult=0.0,
                 custom_keys={'.cls_token': dict(decay_mult=0.0),
                              '.pos_embed': dict(decay_mult=0.0)})


class Detector(nn.Module):
    """Shaped like an mmdet / mmseg model: backbone + neck + head, no get_layer_depth."""

    def __init__(self):
        super().__init__()
        self.backbone = VisionTransformer(arch=ARCH, img_size=32, patch_size=16)
        self.neck = nn.Conv2d(16, 8, 1)
        self.head = nn.Linear(8, 2)


def _groups(model, constructor, scope='mmpretrain'):
    with DefaultScope.overwrite_default_scope(scope):
        wrapper = build_optim_wrapper(model, dict(
            optimizer=dict(type='AdamW', lr=LR, weight_decay=WD),
            constructor=constructor, paramwise_cfg=PARAMWISE))
    return {g['param_name']: g for g in wrapper.optimizer.param_groups}


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmdet', 'mmseg'])
def test_groups_follow_the_layer_depth_formula(scope):
    import importlib
    importlib.import_module(f'{scope}.utils').register_all_modules(False)
    groups = _groups(Detector(), 'BackboneLayerDecayOptimWrapperConstructor', scope)
    max_depth = 12 + 2
    for i in range(12):
        group = groups[f'backbone.layers.{i}.attn.qkv.weight']
        assert group['lr'] == pytest.approx(LR * RATE**(max_depth - (i + 1) - 1))
        assert group['weight_decay'] == WD
        assert groups[f'backbone.layers.{i}.ln1.weight']['weight_decay'] == 0.0
        assert groups[f'backbone.layers.{i}.attn.qkv.bias']['weight_decay'] == 0.0
    for name in ('backbone.cls_token', 'backbone.patch_embed.projection.weight'):
        assert groups[name]['lr'] == pytest.approx(LR * RATE**13)
    assert groups['backbone.cls_token']['weight_decay'] == 0.0
    for name in ('neck.weight', 'head.weight', 'backbone.ln1.weight'):
        assert groups[name]['lr'] == pytest.approx(LR)
    assert groups['neck.weight']['weight_decay'] == WD


def test_equal_to_mmpretrain_for_classification():
    torch.manual_seed(0)
    classifier = ImageClassifier(
        backbone=dict(type='VisionTransformer', arch=ARCH, img_size=32, patch_size=16),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=16))
    ours = _groups(classifier, 'BackboneLayerDecayOptimWrapperConstructor')
    theirs = _groups(classifier, 'LearningRateDecayOptimWrapperConstructor')
    assert ours.keys() == theirs.keys()
    for name in ours:
        assert ours[name]['lr'] == theirs[name]['lr']
        assert ours[name]['weight_decay'] == theirs[name]['weight_decay']


def test_backbone_without_depths_is_refused():
    model = nn.Module()
    model.backbone = nn.Linear(2, 2)
    with pytest.raises(TypeError, match='get_layer_depth'):
        _groups(model, 'BackboneLayerDecayOptimWrapperConstructor')
