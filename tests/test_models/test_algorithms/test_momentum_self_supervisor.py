"""MomentumSelfSupervisor, for all four algorithms: targets start as copies, follow the
EMA rule exactly in one fused update, and move once per optimizer step under gradient
accumulation."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS
from mmssl_ext.engine.hooks import TargetUpdateHook

TINY_VIT = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
MOMENTUM = dict(base_momentum=0.3, end_momentum=0.05)
TARGETS = dict(cim=['target_encoder'], cae=['target_encoder'],
               pqcl=['teacher_backbone', 'teacher_heads'], resim=['momentum_encoder'])


def _config(algo):
    if algo == 'cim':
        return dict(type='CIM',
                    backbone=dict(type='MoCoV3ViT', arch=TINY_VIT, img_size=32, patch_size=8,
                                  stop_grad_conv1=True, out_type='raw'),
                    neck=dict(type='CIMNeck', in_channels=32, embed_dims=32, num_heads=2),
                    head=dict(type='CIMHead'))
    if algo == 'cae':
        return dict(type='ContextAutoencoder', alignment_encoder='ema',
                    backbone=dict(type='ContextEncoderViT', arch=TINY_VIT, img_size=32,
                                  patch_size=8),
                    neck=dict(type='CAERegressorDecoder', num_patches_side=4, embed_dims=32,
                              num_heads=2, out_channels=8 * 8 * 3, regressor_depth=1,
                              decoder_depth=1),
                    head=dict(type='CAEPretrainHead', target='pixels'))
    if algo == 'pqcl':
        return dict(type='PQCL',
                    backbone=dict(type='QueryViT', arch=TINY_VIT, img_size=32, patch_size=8),
                    head=dict(type='IBOTProjectionHead', in_channels=32, out_channels=16,
                              hidden_channels=32, bottleneck_channels=8))
    return dict(type='ReSim', queue_len=8, feat_dim=16,
                backbone=dict(type='ResNet', depth=18, out_indices=(2, 3),
                              zero_init_residual=False),
                neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=32, out_channels=16),
                head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                          temperature=0.2),
                region_head=dict(type='ReSimRegionHead', in_channels=(256, ), strides=(16, ),
                                 windows=(32, ), window_strides=(16, ), level_names=('c4', ),
                                 view_size=64, proj_channels=16))


def _build(algo):
    torch.manual_seed(0)  # batches arrive ready: no preprocessing
    model = MODELS.build(dict(_config(algo), data_preprocessor=dict(type='BaseDataPreprocessor'),
                              **MOMENTUM))
    model.init_weights()
    return model


def _batch(algo):
    """A batch of 2 in the data contract: images in ``inputs``, the rest in data samples."""
    generator = torch.Generator().manual_seed(0)
    randn = lambda *shape: torch.randn(*shape, generator=generator)  # noqa: E731
    if algo == 'cim':
        maps = torch.zeros(2, 2, 32, 32, dtype=torch.long)
        maps[:, :, 4:20, 8:24] = 1
        return [randn(2, 3, 32, 32), randn(2, 2, 3, 16, 16)], [
            DataSample(correlation_maps=m) for m in maps]
    if algo == 'cae':
        mask = torch.zeros(4, 4, dtype=torch.bool)
        mask[:2] = True
        return [randn(2, 3, 32, 32)], [DataSample(mask=mask) for _ in range(2)]
    if algo == 'pqcl':
        return [randn(2, 2, 3, 32, 32), randn(2, 1, 3, 16, 16)], [
            DataSample(query_coords=torch.rand(2, 1, 4, 2, generator=generator) * 4,
                       mask=torch.rand(2, 4, 4, generator=generator) > 0.6) for _ in range(2)]
    crops = [[[0., 0., 100., 100.], [20., 10., 120., 110.]],
             [[30., 0., 90., 60.], [30., 0., 90., 60.]]]
    return [randn(2, 3, 64, 64), randn(2, 3, 64, 64)], [
        DataSample(crop_boxes=np.asarray(c, np.float32), metainfo=dict(flip=f))
        for c, f in zip(crops, (False, True))]


def _pairs(model):
    """(name, target tensor, source tensor) of every parameter and buffer of every target."""
    pairs = []
    for target, source in model.momentum_targets():
        for kind in ('named_parameters', 'named_buffers'):
            sources = dict(getattr(source, kind)())
            pairs += [(f'{kind}:{name}', tensor, sources[name])
                      for name, tensor in getattr(target.module, kind)()]
    return pairs


ALGOS = ['cim', 'cae', 'pqcl', 'resim']


@pytest.mark.parametrize('algo', ALGOS)
def test_targets_registered_and_start_as_copies(algo):
    model = _build(algo)
    assert [name for name, _ in model._momentum_sources.items()] == TARGETS[algo]
    assert all(f'{name}.steps' in model.state_dict() for name in TARGETS[algo])
    for name, target, source in _pairs(model):
        assert torch.equal(target, source), name
        assert not isinstance(target, torch.nn.Parameter) or not target.requires_grad


@pytest.mark.parametrize('algo', ALGOS)
def test_one_fused_update_follows_the_ema_rule(algo, message_hub, monkeypatch):
    model = _build(algo)
    with torch.no_grad():  # move every source parameter and buffer
        for _, _, source in _pairs(model):
            if source.dtype.is_floating_point:
                source.add_(torch.randn_like(source))
    before = {name: target.clone() for name, target, _ in _pairs(model)}
    message_hub.update_info('iter', 3)
    fused = []
    foreach_lerp = torch._foreach_lerp_
    monkeypatch.setattr(torch, '_foreach_lerp_',
                        lambda tensors, *args, **kwargs: (fused.append(len(tensors)),
                                                          foreach_lerp(tensors, *args,
                                                                       **kwargs)))
    model.update_target()
    momentum = 0.05 - (0.05 - 0.3) * (math.cos(math.pi * 3 / 10) + 1) / 2
    num_params = sum(1 for name, target, _ in _pairs(model)
                     if name.startswith('named_parameters') and target.dtype.is_floating_point)
    assert fused == [num_params]  # one fused op over all parameters of all targets
    for name, target, source in _pairs(model):
        if name.startswith('named_buffers') or not target.dtype.is_floating_point:
            assert torch.equal(target, source), name  # buffers are copied, not averaged
        else:
            expected = before[name].mul(1 - momentum).add(source, alpha=momentum)
            # CosineEMA's arithmetic, up to float rounding (lerp: one pass, not two)
            torch.testing.assert_close(target, expected, rtol=1e-6, atol=1e-6, msg=name)
    assert all(int(getattr(model, name).steps) == 2 for name in TARGETS[algo])


@pytest.mark.parametrize('algo', ALGOS)
def test_gradient_accumulation_updates_targets_once_per_optimizer_step(algo, message_hub):
    model = _build(algo)
    model.train()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5),
                                 accumulative_counts=2)
    optim_wrapper.initialize_count_status(model, 0, 4)
    runner = SimpleNamespace(model=model, optim_wrapper=optim_wrapper)
    hook = TargetUpdateHook()
    hook.before_train(runner)
    inputs, data_samples = _batch(algo)
    def target_params():  # (a momentum encoder's BN statistics move in its forward)
        return [target.detach().clone() for name, target, _ in _pairs(model)
                if name.startswith('named_parameters')]

    for iteration, stepped in enumerate([False, True, False, True]):
        message_hub.update_info('iter', iteration)
        before = target_params()
        model.train_step(dict(inputs=inputs, data_samples=data_samples), optim_wrapper)
        hook.after_train_iter(runner, iteration)
        moved = any(not torch.equal(*pair) for pair in zip(before, target_params()))
        assert moved == stepped, (iteration, stepped)
    assert all(int(getattr(model, name).steps) == 1 + 2 for name in TARGETS[algo])
