"""ReSim (C4 and FPN) on tiny ResNet-18s and 64 px views."""
import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmpretrain.structures import DataSample

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS

SIZE = 64


def _config(fpn: bool, queue_len: int = 8, **region_head):
    if fpn:
        backbone = dict(type='ResNet', depth=18, out_indices=(1, 2, 3), zero_init_residual=False)
        region_neck = dict(type='ReSimFPN', in_channels=(128, 256, 512), out_channels=32)
        head = dict(in_channels=(32, 32), strides=(8, 16), windows=(16, 32),
                    window_strides=(12, 16), level_names=('p3', 'p4'))
    else:
        backbone = dict(type='ResNet', depth=18, out_indices=(2, 3), zero_init_residual=False)
        region_neck = None
        head = dict(in_channels=(256,), strides=(16,), windows=(32,), window_strides=(16,),
                    level_names=('c4',))
    head.update(view_size=SIZE, proj_channels=16, **region_head)
    return dict(
        type='ReSim', backbone=backbone, region_neck=region_neck,
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=64, out_channels=16),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
        region_head=dict(type='ReSimRegionHead', **head), queue_len=queue_len, feat_dim=16)


def _build(fpn, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(_config(fpn, **kwargs))
    model.init_weights()
    model.train()
    return model


def _batch(crops, flips):
    generator = torch.Generator().manual_seed(0)
    views = [torch.randn(len(crops), 3, SIZE, SIZE, generator=generator) for _ in range(2)]
    samples = [DataSample(crop_boxes=np.asarray(c, np.float32), metainfo=dict(flip=f))
               for c, f in zip(crops, flips)]
    return views, samples


OVERLAPPING = [[[0, 0, 100, 100], [20, 10, 120, 110]], [[30, 0, 90, 60], [30, 0, 90, 60]]]
DISJOINT = [[[0, 0, 50, 50], [60, 60, 110, 110]], [[0, 0, 40, 40], [50, 0, 90, 40]]]


@pytest.mark.parametrize('fpn', [False, True], ids=['c4', 'fpn'])
def test_losses_gradients_and_queue(fpn):
    model = _build(fpn, queue_len=4)
    views, samples = _batch(OVERLAPPING, [False, True])
    losses = model.loss(views, samples)
    levels = ('p3', 'p4') if fpn else ('c4',)
    assert set(losses) == {'loss_global'} | {f'{k}_{level}' for level in levels
                                             for k in ('loss_region', 'num_regions')}
    for level in levels:
        assert losses[f'num_regions_{level}'] > 0
        assert losses[f'loss_region_{level}'] > 0
    # the identical crops of sample 1 make all its windows valid
    windows = model.region_head.window_boxes()[0]
    assert losses[f'num_regions_{levels[0]}'] >= len(windows)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    projection = model.region_head.projections[0][0].weight
    assert projection.grad is not None and projection.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.momentum_encoder.parameters())
    assert int(model.queue_ptr) == 2
    if fpn:
        assert model.region_neck.lateral_convs[2].weight.grad.abs().sum() > 0


@pytest.mark.parametrize('fpn', [False, True], ids=['c4', 'fpn'])
def test_all_invalid_batch_gives_zero_region_loss_and_finite_gradients(fpn):
    model = _build(fpn)
    views, samples = _batch(DISJOINT, [False, True])
    losses = model.loss(views, samples)
    region = [k for k in losses if k.startswith('loss_region')]
    assert all(losses[k].item() == 0 for k in region)
    assert all(losses[k.replace('loss_region', 'num_regions')].item() == 0 for k in region)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for name, param in model.named_parameters():
        if param.grad is not None:
            assert torch.isfinite(param.grad).all(), name
    assert torch.isfinite(losses['loss_global'])


def test_momentum_encoder_copies_then_follows():
    model = _build(False)
    online = model.backbone.conv1.weight
    key = model.momentum_encoder.module['backbone'].conv1.weight
    assert torch.equal(online, key) and online.data_ptr() != key.data_ptr()
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 0)
    hub.update_info('max_iters', 10)
    with torch.no_grad():
        online.add_(1.0)
    model.update_target()
    assert torch.allclose(key, online - 1.0 + 0.001, atol=1e-6)  # m = 0.001 of the new


def test_queue_not_a_multiple_of_the_global_batch_names_the_parameter():
    model = _build(False, queue_len=5)
    with pytest.raises(ValueError, match='queue_len=5'):
        model.loss(*_batch(OVERLAPPING, [False, False]))


@pytest.mark.parametrize('head, match', [
    (dict(windows=(80,)), 'windows\\[0\\]'),
    (dict(window_strides=(0,)), 'stride=0'),
    (dict(strides=(16, 8)), 'strides'),
])
def test_bad_region_settings_fail_at_build(head, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(_config(False, **head))


def test_bad_queue_and_view_size():
    with pytest.raises(ValueError, match='queue_len'):
        MODELS.build(_config(False, queue_len=0))
    model = _build(False)
    views, samples = _batch(OVERLAPPING, [False, False])
    with pytest.raises(ValueError, match='view_size'):
        model.loss([v[..., :48, :48] for v in views], samples)


def test_raw_features_option_and_tensor_mode():
    model = _build(True, projection=False)
    assert all(isinstance(p, torch.nn.Identity) for p in model.region_head.projections)
    views, samples = _batch(OVERLAPPING, [True, False])
    losses = model.loss(views, samples)
    assert torch.isfinite(losses['loss_region_p3'])
    feats = model(views[0], mode='tensor')
    assert feats[-1].shape == (2, 512, 2, 2)


@pytest.mark.parametrize('fpn', [False, True], ids=['c4', 'fpn'])
def test_dense_negatives_and_per_level_losses(fpn):
    losses_cfg = (dict(type='RegionInfoNCELoss', gather=False), dict(type='RegionInfoNCELoss'))
    extra = dict(negatives='dense', loss=losses_cfg[:2 if fpn else 1])
    model = _build(fpn, **extra)
    assert model.region_head.dense_kernels == ((3, 3) if fpn else (3, ))  # the reference's
    assert not model.region_head.loss_modules[0].gather
    losses = model.loss(*_batch(OVERLAPPING, [False, True]))
    assert all(torch.isfinite(v) for v in losses.values())
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    invalid = model.loss(*_batch(DISJOINT, [False, True]))
    assert all(v.item() == 0 for k, v in invalid.items() if k.startswith('loss_region'))


def test_bad_negatives_and_loss_count():
    with pytest.raises(ValueError, match='negatives'):
        MODELS.build(_config(False, negatives='queue'))
    with pytest.raises(ValueError, match='loss'):
        MODELS.build(_config(False, loss=[dict(type='RegionInfoNCELoss')] * 2))


def test_region_branch_off_is_moco_v2_on_the_same_global_path():
    """region_head=None: only the global InfoNCE, equal to ReSim's global term."""
    resim = _build(True, queue_len=4)
    cfg = _config(True, queue_len=4)
    cfg.update(region_head=None, region_neck=None)
    torch.manual_seed(0)
    moco = MODELS.build(cfg)
    moco.init_weights()
    moco.train()
    state = {k: v for k, v in resim.state_dict().items()
             if not k.startswith(('region_', 'momentum_encoder.module.region_'))}
    moco.load_state_dict(state)
    views, samples = _batch(OVERLAPPING, [False, True])
    torch.manual_seed(1)
    expected = resim.loss(views, samples)['loss_global']
    torch.manual_seed(1)
    losses = moco.loss(views, samples)
    assert set(losses) == {'loss_global'}
    torch.testing.assert_close(losses['loss_global'], expected)
    losses['loss_global'].backward()
    assert moco.backbone.conv1.weight.grad.abs().sum() > 0
    assert int(moco.queue_ptr) == 2
    with pytest.raises(ValueError, match='region_neck needs a region_head'):
        MODELS.build(dict(cfg, region_neck=_config(True)['region_neck']))


@pytest.mark.parametrize('temperature', [0., -0.2])
def test_non_positive_global_temperature_fails_at_build(temperature):
    cfg = _config(fpn=False)
    cfg['head']['temperature'] = temperature
    with pytest.raises(ValueError, match='head.temperature must be > 0'):
        MODELS.build(cfg)
