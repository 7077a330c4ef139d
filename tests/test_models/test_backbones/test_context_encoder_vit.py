"""ContextEncoderViT: visible-only encoding equals mmpretrain's CAE encoder; chain to BEiTViT."""
import math

import pytest
import torch
from mmpretrain.models.backbones import BEiTViT
from mmpretrain.models.selfsup.cae import CAEPretrainViT
from mmpretrain.models.utils import build_2d_sincos_position_embedding

from mmssl_ext.models.backbones import ContextEncoderViT

ARCH = dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64)


def _encoder(**kwargs):
    torch.manual_seed(0)
    encoder = ContextEncoderViT(arch=ARCH, img_size=32, patch_size=8, drop_path_rate=0.,
                                **kwargs)
    encoder.init_weights()
    with torch.no_grad():  # leave the fixed table, randomise the rest
        for name, param in encoder.named_parameters():
            if name != 'pos_embed':
                param.normal_(0, 0.2)
    encoder.eval()
    return encoder


def _random_mask(batch, num_patches, num_masked, seed=0):
    generator = torch.Generator().manual_seed(seed)
    order = torch.rand(batch, num_patches, generator=generator).argsort(1)
    mask = torch.zeros(batch, num_patches, dtype=torch.bool)
    mask.scatter_(1, order[:, :num_masked], True)
    return mask


def test_visible_encoding_matches_mmpretrain_cae_encoder():
    encoder = _encoder()
    reference = CAEPretrainViT(arch=ARCH, img_size=32, patch_size=8,
                               layer_scale_init_value=0.1)
    reference.eval()
    missing, unexpected = reference.load_state_dict(encoder.state_dict(), strict=False)
    assert not missing and not unexpected
    images = torch.randn(3, 3, 32, 32)
    mask = _random_mask(3, 16, 9)
    out = encoder(images, mask)
    assert out.shape == (3, 1 + 7, 32)
    torch.testing.assert_close(out, reference(images, mask), rtol=1e-4, atol=1e-5)
    # the alignment target encodes the masked patches instead
    torch.testing.assert_close(encoder(images, ~mask), reference(images, ~mask),
                               rtol=1e-4, atol=1e-5)


def test_masked_pixels_do_not_influence_visible_tokens():
    encoder = _encoder()
    images = torch.randn(2, 3, 32, 32)
    mask = _random_mask(2, 16, 8, seed=1)
    noisy = images.clone()
    pixel_mask = mask.view(2, 4, 4).repeat_interleave(8, 1).repeat_interleave(8, 2)
    noisy[pixel_mask.unsqueeze(1).expand_as(noisy)] = 100.
    torch.testing.assert_close(encoder(noisy, mask), encoder(images, mask))


def test_no_mask_equals_full_forward_and_pos_embed_is_fixed():
    encoder = _encoder()
    images = torch.randn(2, 3, 32, 32)
    full = encoder(images)[0]  # out_type 'raw': (B, 1 + N, C) after the final norm
    torch.testing.assert_close(encoder(images, torch.zeros(2, 16, dtype=torch.bool)), full)
    table = build_2d_sincos_position_embedding((4, 4), 32, cls_token=True)
    torch.testing.assert_close(encoder.pos_embed.data, table)
    assert not encoder.pos_embed.requires_grad


def test_weights_load_into_beit_vit_for_fine_tuning():
    encoder = _encoder()
    kwargs = dict(arch=ARCH, img_size=32, patch_size=8, layer_scale_init_value=0.1,
                  out_type='raw', final_norm=True, use_abs_pos_emb=True,
                  norm_cfg=dict(type='LN', eps=1e-6))
    beit = BEiTViT(use_rel_pos_bias=False, **kwargs)
    beit.eval()
    missing, unexpected = beit.load_state_dict(encoder.state_dict(), strict=False)
    assert not missing and not unexpected
    images = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(beit(images)[0], encoder(images)[0], rtol=1e-4, atol=1e-5)
    # BEiT-protocol fine-tuning adds relative position biases: only those are new
    missing, unexpected = BEiTViT(use_rel_pos_bias=True, **kwargs).load_state_dict(
        encoder.state_dict(), strict=False)
    assert not unexpected and missing and all('relative_position' in key for key in missing)


def test_unequal_mask_counts_are_refused():
    encoder = _encoder()
    mask = _random_mask(2, 16, 8)
    mask[0, mask[0].nonzero()[0]] = False
    with pytest.raises(ValueError, match='same number of masked patches'):
        encoder(torch.randn(2, 3, 32, 32), mask)


def _reference_truncated_std(std):
    """Std of N(0, std^2) cut at +-std (the reference's trunc_normal_, a=-std, b=std):
    std * sqrt(1 - 2 phi(1) / (2 Phi(1) - 1))."""
    phi = math.exp(-0.5) / math.sqrt(2 * math.pi)
    mass = math.erf(1 / math.sqrt(2))
    return std * math.sqrt(1 - 2 * phi / mass)


def test_init_truncates_at_one_std_as_the_reference():
    """Class token and patch-embedding conv: N(0, 0.02) cut at +-0.02 (std 0.0108); an
    untruncated draw (mmengine's default bounds +-2) has std 0.02."""
    torch.manual_seed(0)
    encoder = ContextEncoderViT(arch=dict(ARCH, embed_dims=256), img_size=32, patch_size=8)
    encoder.init_weights()
    weight = encoder.patch_embed.projection.weight  # 49152 draws
    assert weight.abs().max().item() <= 0.02
    assert weight.std().item() == pytest.approx(_reference_truncated_std(0.02), rel=0.02)
    assert encoder.cls_token.abs().max().item() <= 0.02
    assert encoder.cls_token.std().item() < 0.015  # 256 draws; untruncated: 0.02
    assert not encoder.patch_embed.projection.bias.any()
