"""CIM algorithm: encoders, EMA target, gradients, accumulation, AMP, overfitting."""
import math
import uuid
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmengine.runner import Runner
from mmpretrain.structures import DataSample

from mmssl_ext.engine.hooks import TargetUpdateHook
from mmssl_ext.models.utils import sincos_2d_table
from mmssl_ext.registry import MODELS

TINY_VIT = dict(type='CIMViT',
                arch=dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64),
                img_size=32, patch_size=8, stop_grad_conv1=True, out_type='raw')
TINY_RESNET = dict(type='CIMResNet', depth=18, stem_channels=8, base_channels=8)


def build_cim(backbone=TINY_VIT, in_channels=32, **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='CIM', backbone=backbone,
        neck=dict(type='CIMNeck', in_channels=in_channels, embed_dims=32, num_heads=2),
        head=dict(type='CIMHead'),
        data_preprocessor=dict(type='BaseDataPreprocessor'), **kwargs))
    model.init_weights()
    return model


def synthetic_batch(batch=2, num_exemplars=2, context_size=32, exemplar_size=16, seed=0):
    """Random contexts, axis-aligned crops of them as exemplars, and the crops' maps."""
    generator = torch.Generator().manual_seed(seed)
    contexts = torch.randn(batch, 3, context_size, context_size, generator=generator)
    exemplars = torch.empty(batch, num_exemplars, 3, exemplar_size, exemplar_size)
    maps = torch.zeros(batch, num_exemplars, context_size, context_size, dtype=torch.long)
    for b in range(batch):
        for n in range(num_exemplars):
            height, width = torch.randint(context_size // 4, context_size // 2 + 1, (2, ),
                                          generator=generator).tolist()
            top = torch.randint(0, context_size - height + 1, (1, ), generator=generator).item()
            left = torch.randint(0, context_size - width + 1, (1, ), generator=generator).item()
            maps[b, n, top:top + height, left:left + width] = 1
            crop = contexts[b:b + 1, :, top:top + height, left:left + width]
            exemplars[b, n] = F.interpolate(crop, size=(exemplar_size, exemplar_size),
                                            mode='bilinear', align_corners=False)[0]
    return [contexts, exemplars, maps]


def loss_args(contexts, exemplars, maps):
    """The data contract: images in ``inputs``, each sample's maps in its data sample."""
    return [contexts, exemplars], [DataSample(correlation_maps=m) for m in maps]


def target_and_online(model):
    online = dict(model.backbone.named_parameters())
    return {name: (param, online[name]) for name, param in
            model.target_encoder.module.named_parameters()}


def test_vit_encoders_token_geometry_and_frozen_embeddings():
    backbone = dict(TINY_VIT, img_size=224, patch_size=16)
    model = build_cim(backbone)
    contexts, exemplars, maps = synthetic_batch(1, 2, context_size=160, exemplar_size=64)
    assert model.backbone(exemplars.flatten(0, 1))[-1].shape == (2, 1 + 4 * 4, 32)
    assert model.target_encoder(contexts)[-1].shape == (1, 1 + 10 * 10, 32)
    # fixed 14x14 sin-cos table with a zero class slot, resized per input by the ViT
    table = sincos_2d_table((14, 14), 32)
    torch.testing.assert_close(model.backbone.pos_embed.data, table)
    assert not model.backbone.pos_embed.requires_grad
    assert not model.backbone.patch_embed.projection.weight.requires_grad
    loss = model.loss(*loss_args(contexts, exemplars, maps))['loss']
    assert loss.ndim == 0 and torch.isfinite(loss)
    trainable = build_cim(dict(backbone, stop_grad_conv1=False))
    assert trainable.backbone.patch_embed.projection.weight.requires_grad


def test_outputs_and_gradients_flow_to_online_side_only():
    model = build_cim()
    logits = []
    model.neck.register_forward_hook(lambda module, args, out: logits.append(out))
    losses = model(*loss_args(*synthetic_batch()), mode='loss')
    assert set(losses) == {'loss', 'ce', 'iou', 'location_prior_ce'}
    assert logits[0].shape == (2, 2, 2, 32, 32)
    losses['loss'].backward()
    assert all(param.grad is None for param in model.target_encoder.parameters())
    for name, param in list(model.backbone.named_parameters()) + list(
            model.neck.named_parameters()):
        if param.requires_grad:
            assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_init_weights_makes_target_a_copy_of_initialised_online_encoder():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='CIM', backbone=TINY_VIT,
        neck=dict(type='CIMNeck', in_channels=32, embed_dims=32, num_heads=2),
        head=dict(type='CIMHead')))
    before = model.target_encoder.module.pos_embed.clone()  # zeros until init_weights
    model.init_weights()
    assert not torch.equal(before, model.target_encoder.module.pos_embed)
    for target, online in target_and_online(model).values():
        assert torch.equal(target, online)


def test_target_follows_the_ema_rule_exactly(message_hub):
    model = build_cim()
    message_hub.update_info('iter', 3)
    before = {name: target.clone() for name, (target, _) in target_and_online(model).items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    model.loss(*loss_args(*synthetic_batch()))['loss'].backward()
    optimizer.step()
    model.update_target()
    # mmengine convention: m is the weight of the NEW online parameters;
    # m = 0.01 * (cos(pi * 3 / 10) + 1) / 2, i.e. tau = 1 - m on the 0.99 -> 1 cosine
    momentum = 0.01 * (math.cos(math.pi * 3 / 10) + 1) / 2
    largest_move = 0.
    for name, (target, online) in target_and_online(model).items():
        expected = (1 - momentum) * before[name] + momentum * online.detach()
        torch.testing.assert_close(target, expected, rtol=3e-7, atol=3e-7)  # a few ulps
        largest_move = max(largest_move, (expected - before[name]).abs().max().item())
    assert largest_move > 1e-4  # the tolerance is far below the size of the update
    assert model.target_encoder.steps.item() == 2  # the copy in init_weights, then one EMA


@pytest.mark.parametrize('iteration, online_weight', [(0, 0.01), (10, 0.0)])
def test_schedule_goes_from_tau_099_to_tau_1(message_hub, iteration, online_weight):
    model = build_cim()
    message_hub.update_info('iter', iteration)
    with torch.no_grad():
        for param in model.backbone.parameters():
            param.add_(1.)
    before = {name: target.clone() for name, (target, _) in target_and_online(model).items()}
    model.update_target()
    for name, (target, online) in target_and_online(model).items():
        expected = (1 - online_weight) * before[name] + online_weight * online
        torch.testing.assert_close(target, expected, rtol=3e-7, atol=3e-7)


def test_gradient_accumulation_updates_target_once_per_optimizer_step(message_hub):
    model = build_cim()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.5),
                                 accumulative_counts=2)
    runner = SimpleNamespace(model=model, optim_wrapper=optim_wrapper)
    hook = TargetUpdateHook()
    hook.before_train(runner)
    inputs, data_samples = loss_args(*synthetic_batch())
    data = dict(inputs=inputs, data_samples=data_samples)
    target = model.target_encoder.module.layers[0].attn.qkv.weight
    online = model.backbone.layers[0].attn.qkv.weight
    for iteration, stepped in enumerate([False, True, False, True]):
        message_hub.update_info('iter', iteration)
        target_before, online_before = target.clone(), online.detach().clone()
        model.train_step(data, optim_wrapper)
        hook.after_train_iter(runner, iteration)
        assert not torch.equal(online, online_before) == stepped
        assert not torch.equal(target, target_before) == stepped
    assert model.target_encoder.steps.item() == 1 + 2


def test_overfits_one_batch(message_hub):
    model = build_cim()
    data = synthetic_batch(batch=2, num_exemplars=2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    losses = []
    for iteration in range(50):
        message_hub.update_info('iter', iteration)
        loss = model.loss(*loss_args(*data))['loss']
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.update_target()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    # and below the best input-independent constant prediction (each exemplar's entropy)
    fraction_inside = data[2].float().mean(dim=(0, 2, 3))
    constant_loss = -(fraction_inside * fraction_inside.log() +
                      (1 - fraction_inside) * (1 - fraction_inside).log()).sum()
    assert losses[-1] < constant_loss.item(), (losses[-1], constant_loss)


def test_resnet_variant_end_to_end(message_hub):
    # 64 px contexts -> C5 2x2 cells, 32 px exemplars -> 1x1 (+ the average token)
    model = build_cim(TINY_RESNET, in_channels=64)
    logits = []
    model.neck.register_forward_hook(lambda module, args, out: logits.append(out))
    losses = model.loss(*loss_args(*synthetic_batch(2, 3, context_size=64, exemplar_size=32)))
    assert logits[0].shape == (2, 3, 2, 64, 64)
    losses['loss'].backward()
    assert all(param.grad is None for param in model.target_encoder.parameters())
    assert model.backbone.conv1.weight.grad.abs().sum() > 0
    model.update_target()
    # BN statistics are not averaged: the target keeps the online encoder's
    torch.testing.assert_close(model.target_encoder.module.norm1.running_mean,
                               model.backbone.norm1.running_mean)


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
@pytest.mark.parametrize('backbone, in_channels, sizes', [
    (TINY_VIT, 32, (32, 16)),
    (TINY_RESNET, 64, (64, 32)),
])
def test_autocast_forward_backward(backbone, in_channels, sizes, dtype):
    model = build_cim(backbone, in_channels=in_channels)
    logits = []
    model.neck.register_forward_hook(lambda module, args, out: logits.append(out))
    data = synthetic_batch(2, 2, *sizes)
    with torch.autocast('cpu', dtype=dtype):
        losses = model.loss(*loss_args(*data))
    assert logits[0].dtype == dtype
    assert losses['loss'].dtype == torch.float32 and torch.isfinite(losses['loss'])
    losses['loss'].backward()
    for name, param in model.named_parameters():
        if param.requires_grad:
            assert param.grad is not None and torch.isfinite(param.grad).all(), name


def test_tensor_mode_returns_online_encoder_features():
    model = build_cim()
    with torch.no_grad():
        model.backbone.ln1.bias.add_(1.)  # online and target now differ
    images = synthetic_batch()[0]
    feats = model(images, mode='tensor')
    torch.testing.assert_close(feats[-1], model.backbone(images)[-1])
    assert not torch.allclose(feats[-1], model.target_encoder(images)[-1])


def test_misuse_is_reported():
    model = build_cim()
    MessageHub.get_instance(f'test-cim-{uuid.uuid4().hex}')  # no 'iter' recorded
    with pytest.raises(RuntimeError, match="'iter'"):
        model.update_target()
    contexts, exemplars, maps = synthetic_batch()
    with pytest.raises(ValueError, match='exemplars'):
        model.loss(*loss_args(contexts[:1], exemplars, maps))


@pytest.mark.parametrize('name', ['base_momentum', 'end_momentum'])
def test_bad_momentum_fails_at_build(name):
    with pytest.raises(ValueError, match=name):
        build_cim(**{name: 1.5})


class RecordingHook(Hook):
    """Snapshots one online and one target weight after every iteration (after updates)."""

    priority = 'LOW'

    def __init__(self):
        self.snapshots = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        model = runner.model
        self.snapshots.append((model.backbone.layers[0].attn.qkv.weight.detach().clone(),
                               model.target_encoder.module.layers[0].attn.qkv.weight.clone()))


class SyntheticDataset(torch.utils.data.Dataset):

    def __init__(self, num_samples):
        self.contexts, self.exemplars, self.maps = synthetic_batch(num_samples, 2)

    def __len__(self):
        return len(self.contexts)

    def __getitem__(self, index):
        return dict(inputs=[self.contexts[index], self.exemplars[index]],
                    data_samples=DataSample(correlation_maps=self.maps[index]))


@pytest.mark.slow
def test_runner_with_accumulation_follows_iteration_schedule(tmp_path):
    """mmengine's loop: RuntimeInfoHook's iteration drives the EMA, 2 iterations a step."""
    model = build_cim()
    recorder = RecordingHook()
    runner = Runner(
        model=model, work_dir=str(tmp_path), experiment_name=f'cim-{uuid.uuid4().hex}',
        train_dataloader=dict(dataset=SyntheticDataset(8), batch_size=2, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.5), accumulative_counts=2),
        train_cfg=dict(by_epoch=False, max_iters=4),
        custom_hooks=[TargetUpdateHook(), recorder],
        default_hooks=dict(checkpoint=None, logger=None), default_scope='mmpretrain')
    runner.train()
    (online0, target0), (online1, target1), (online2, target2), (online3, target3) = \
        recorder.snapshots
    assert torch.equal(target0, online0)  # the initial copy; no optimizer step yet
    assert not torch.equal(online1, online0)
    assert torch.equal(online2, online1) and torch.equal(target2, target1)  # accumulating
    for iteration, online, target, previous in ((1, online1, target1, target0),
                                                (3, online3, target3, target2)):
        momentum = 0.01 * (math.cos(math.pi * iteration / 4) + 1) / 2
        torch.testing.assert_close(target, (1 - momentum) * previous + momentum * online,
                                   rtol=3e-7, atol=3e-7)
    assert model.target_encoder.steps.item() == 1 + 2


@pytest.mark.parametrize('name, sizes', [('exemplar_size', (32, 12)),
                                         ('context_size', (28, 16))])
def test_sampler_sizes_off_the_patch_grid_fail_at_build(name, sizes):
    def build(context_size, exemplar_size):
        return MODELS.build(dict(
            type='CIM', backbone=TINY_VIT,
            neck=dict(type='CIMNeck', in_channels=32, embed_dims=32, num_heads=2),
            head=dict(type='CIMHead'),
            data_preprocessor=dict(type='CIMDataPreprocessor', sampler=dict(
                base_size=32, context_size=context_size, exemplar_size=exemplar_size,
                num_exemplars=2))))

    with pytest.raises(ValueError, match=f'sampler.{name}.*multiple of the patch size'):
        build(*sizes)
    build(32, 16)
