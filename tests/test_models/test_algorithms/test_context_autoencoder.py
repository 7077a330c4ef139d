"""ContextAutoencoder: pixel and token targets, alignment target without gradient, EMA
option, overfitting a fixed batch, build-time checks."""

import pytest
import torch
from mmpretrain.structures import DataSample

from mmssl_ext.models.utils.patch_pixels import normalized_patch_pixels
from mmssl_ext.registry import MODELS

ARCH = dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64)
GRID, PATCH, MASKED = 4, 8, 8


def build_cae(target='pixels', **kwargs):
    torch.manual_seed(0)
    cfg = dict(
        type='ContextAutoencoder',
        backbone=dict(type='ContextEncoderViT', arch=ARCH, img_size=32, patch_size=PATCH,
                      drop_path_rate=0.),
        neck=dict(type='CAERegressorDecoder', num_patches_side=GRID, embed_dims=32,
                  num_heads=4, out_channels=PATCH * PATCH * 3 if target == 'pixels' else 16,
                  regressor_depth=2, decoder_depth=2, drop_path_rate=0.),
        head=dict(type='CAEPretrainHead', target=target),
        data_preprocessor=dict(type='SelfSupDataPreprocessor'))
    if target == 'tokens':
        cfg['target_generator'] = dict(type='DALL-E', n_hid=4, n_blk_per_group=1,
                                       vocab_size=16)
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def batch(size=4, seed=0, tokenizer_size=None):
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(size, 3, 32, 32, generator=generator)
    samples = []
    for _ in range(size):
        order = torch.randperm(GRID * GRID, generator=generator)
        mask = torch.zeros(GRID * GRID, dtype=torch.bool)
        mask[order[:MASKED]] = True
        samples.append(DataSample().set_mask(mask.view(GRID, GRID)))
    inputs = [images]
    if tokenizer_size:
        inputs.append(torch.rand(size, 3, tokenizer_size, tokenizer_size, generator=generator))
    return inputs, samples


def test_pixel_targets_one_encoder_pass_each_and_detached_alignment_target():
    model = build_cae()
    inputs, samples = batch()
    calls = []
    model.backbone.register_forward_hook(
        lambda module, args, output: calls.append((args[1].clone(), output)))
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_main', 'loss_align'}
    mask = torch.stack([s.mask for s in samples]).flatten(1)
    assert len(calls) == 2
    (visible_mask, visible), (target_mask, aligned) = calls
    assert torch.equal(visible_mask, mask) and torch.equal(target_mask, ~mask)
    assert visible.requires_grad and not aligned.requires_grad
    assert visible.shape == aligned.shape == (4, 1 + GRID * GRID - MASKED, 32)

    # hand check of the pixel term from the neck's own predictions
    latent, predictions = model.neck(visible[:, 1:], mask)
    pixels = normalized_patch_pixels(inputs[0], PATCH)[mask].view(4, MASKED, -1)
    torch.testing.assert_close(losses['loss_main'], ((predictions - pixels)**2).mean())
    torch.testing.assert_close(losses['loss_align'],
                               2.0 * ((latent - aligned[:, 1:])**2).mean())

    # a single-view preprocessor hands over a tensor, not a list
    torch.testing.assert_close(model.loss(inputs[0], samples)['loss_main'],
                               losses['loss_main'])

    # gradients reach the encoder through the visible path only
    sum(losses.values()).backward()
    assert model.backbone.layers[0].attn.qkv.weight.grad.abs().sum() > 0
    assert model.neck.regressor_layers[0].cross_attn.q.weight.grad.abs().sum() > 0


def test_token_targets_from_a_random_tokenizer():
    model = build_cae(target='tokens')
    inputs, samples = batch(tokenizer_size=32)  # DALL-E downsamples 8x: 4 x 4 tokens
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_main', 'loss_align', 'mim_acc'}
    mask = torch.stack([s.mask for s in samples]).flatten(1)
    tokens = model.target_generator(inputs[1]).argmax(1).flatten(1)
    torch.testing.assert_close(model.reconstruction_targets(inputs, mask),
                               tokens[mask].view(4, MASKED))
    assert not any(p.requires_grad for p in model.target_generator.parameters())


def test_overfitting_a_fixed_batch_lowers_both_terms():
    model = build_cae()
    inputs, samples = batch(size=2, seed=3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    history = []
    for _ in range(60):
        losses = model.loss(inputs, samples)
        history.append({k: v.item() for k, v in losses.items()})
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    first, last = history[0], history[-1]
    assert last['loss_main'] < 0.5 * first['loss_main']
    assert last['loss_align'] < first['loss_align']


def test_ema_alignment_encoder_option(message_hub):
    model = build_cae(alignment_encoder='ema', base_momentum=0.5)
    ema = model.target_encoder.module
    for online, target in zip(model.backbone.parameters(), ema.parameters()):
        torch.testing.assert_close(online, target)
    inputs, samples = batch()
    calls = []
    ema.register_forward_hook(lambda module, args, output: calls.append(output))
    losses = model.loss(inputs, samples)
    assert len(calls) == 1 and not calls[0].requires_grad
    before = ema.layers[0].attn.qkv.weight.detach().clone()
    with torch.no_grad():
        model.backbone.layers[0].attn.qkv.weight.add_(1.0)
    model.update_target()  # iter 0 of 10: m = 0.5
    torch.testing.assert_close(ema.layers[0].attn.qkv.weight, before + 0.5)
    assert set(losses) == {'loss_main', 'loss_align'}


def test_update_target_needs_the_ema_option():
    with pytest.raises(RuntimeError, match="alignment_encoder='ema'"):
        build_cae().update_target()


@pytest.mark.parametrize('kwargs,name', [
    (dict(alignment_encoder='teacher'), 'alignment_encoder'),
    (dict(base_momentum=1.5), 'base_momentum'),
    (dict(neck=dict(type='CAERegressorDecoder', num_patches_side=GRID, embed_dims=32,
                    num_heads=4, out_channels=100)), 'out_channels'),
    (dict(neck=dict(type='CAERegressorDecoder', num_patches_side=GRID, embed_dims=64,
                    num_heads=4, out_channels=192)), 'embed_dims'),
])
def test_bad_configs_fail_at_build(kwargs, name):
    with pytest.raises(ValueError, match=name):
        build_cae(**kwargs)


def test_token_target_needs_a_tokenizer():
    with pytest.raises(ValueError, match='target_generator'):
        build_cae(target='tokens', target_generator=None)


@pytest.mark.parametrize('device,dtype', [
    ('cpu', torch.bfloat16),
    pytest.param('cuda', torch.float16, marks=pytest.mark.gpu),
    pytest.param('cuda', torch.bfloat16, marks=pytest.mark.gpu)])
def test_mixed_precision_losses_are_float32_and_close_to_fp32(device, dtype):
    model = build_cae(target='tokens').to(device)
    inputs, samples = batch(tokenizer_size=32)
    inputs = [x.to(device) for x in inputs]
    reference = model.loss(inputs, samples)
    with torch.autocast(device, dtype=dtype):
        losses = model.loss(inputs, samples)
    for key in ('loss_main', 'loss_align'):
        assert losses[key].dtype == torch.float32 and torch.isfinite(losses[key])
        torch.testing.assert_close(losses[key], reference[key], rtol=0.05, atol=0.05)
    (losses['loss_main'] + losses['loss_align']).backward()
    assert torch.isfinite(model.backbone.layers[0].attn.qkv.weight.grad).all()
