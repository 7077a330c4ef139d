"""CAERegressorDecoder: equals mmpretrain's CAENeck, never updates the visible tokens."""
import pytest
import torch
from mmpretrain.models.necks import CAENeck

from mmssl_ext.converters.cae import cae_release_to_mmssl
from mmssl_ext.converters.common import strip_prefix
from mmssl_ext.models.necks import CAERegressorDecoder

C, HEADS, GRID = 32, 4, 4


def _neck(**kwargs):
    torch.manual_seed(0)
    neck = CAERegressorDecoder(num_patches_side=GRID, embed_dims=C, num_heads=HEADS,
                               out_channels=24, regressor_depth=2, decoder_depth=2,
                               drop_path_rate=0., **kwargs)
    neck.init_weights()
    with torch.no_grad():
        for param in neck.parameters():
            param.add_(0.2 * torch.randn_like(param))
    return neck.eval()


def _mask(batch, num_masked, seed=0):
    order = torch.rand(batch, GRID * GRID, generator=torch.Generator().manual_seed(seed))
    mask = torch.zeros(batch, GRID * GRID, dtype=torch.bool)
    mask.scatter_(1, order.argsort(1)[:, :num_masked], True)
    return mask


def test_matches_mmpretrain_cae_neck_through_the_converter():
    reference = CAENeck(num_classes=24, embed_dims=C, regressor_depth=2, decoder_depth=2,
                        num_heads=HEADS, layer_scale_init_value=0.1, mask_tokens_num=9)
    torch.manual_seed(1)
    with torch.no_grad():
        for param in reference.parameters():
            param.normal_(0, 0.2)
    reference.eval()
    release = {f'neck.{key}': value for key, value in reference.state_dict().items()}
    converted, report = cae_release_to_mmssl(release, source='mmpretrain')
    assert not report.unused
    ours = _neck()
    ours.load_state_dict(strip_prefix(converted, 'neck.'))

    visible = torch.randn(2, 7, C)
    mask = _mask(2, 9)
    latent, predictions = ours(visible, mask)
    pos = ours.pos_embed.expand(2, -1, -1)
    logits, latent_reference = reference(visible, pos[mask].view(2, 9, C),
                                         pos[~mask].view(2, 7, C))
    torch.testing.assert_close(latent, latent_reference, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(predictions, logits, rtol=1e-4, atol=1e-5)


def test_visible_tokens_are_the_memory_of_every_regressor_layer_unchanged():
    neck = _neck()
    visible = torch.randn(2, 10, C)
    original = visible.clone()
    memories = []
    for layer in neck.regressor_layers:
        layer.register_forward_pre_hook(lambda module, args: memories.append(args[1]))
    latent, predictions = neck(visible, _mask(2, 6))
    assert latent.shape == (2, 6, C) and predictions.shape == (2, 6, 24)
    torch.testing.assert_close(visible, original, rtol=0, atol=0)
    assert len(memories) == 2
    for memory in memories:
        torch.testing.assert_close(memory[:, :10], original, rtol=0, atol=0)
    # the queries part of the memory is what the regressor refines layer by layer
    assert not torch.equal(memories[0][:, 10:], memories[1][:, 10:])


@pytest.mark.parametrize('name', ['regressor_depth', 'decoder_depth', 'out_channels'])
def test_bad_depths_fail_at_build(name):
    with pytest.raises(ValueError, match=name):
        CAERegressorDecoder(embed_dims=C, num_heads=HEADS, **{name: 0})


def test_mask_token_is_truncated_at_one_std_as_the_reference():
    """N(0, 0.02) cut at +-0.02 (timm's trunc_normal_ with a=-std, b=std)."""
    tokens = []
    for seed in range(8):
        torch.manual_seed(seed)
        neck = CAERegressorDecoder(num_patches_side=GRID, embed_dims=256, num_heads=HEADS,
                                   out_channels=8, regressor_depth=1, decoder_depth=1)
        neck.init_weights()
        tokens.append(neck.mask_token.detach().flatten())
    token = torch.cat(tokens)  # 2048 draws
    assert token.abs().max().item() <= 0.02
    # std of the cut normal: 0.02 * sqrt(1 - 2 phi(1) / (2 Phi(1) - 1)) = 0.0108
    assert token.std().item() == pytest.approx(0.0108, rel=0.04)
