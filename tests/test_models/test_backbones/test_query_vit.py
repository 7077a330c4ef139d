"""QueryViT: plain ViT without queries; the query stream never changes global tokens."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.backbones import VisionTransformer

from mmssl_ext.models.backbones import QueryViT
from mmssl_ext.models.utils import sincos_2d_embed, sincos_2d_table

ARCH = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)


def _vit(**kwargs):
    torch.manual_seed(0)
    model = QueryViT(arch=ARCH, img_size=32, patch_size=8, out_type='raw', **kwargs)
    model.init_weights()
    model.eval()  # mmpretrain's backbones return None from train()
    return model


def test_fixed_sincos_pos_embed():
    model = _vit()
    assert torch.equal(model.pos_embed.data, sincos_2d_table((4, 4), 48))
    assert not model.pos_embed.requires_grad


def test_without_queries_matches_mmpretrain_vit():
    model = _vit(final_norm=True)
    reference = VisionTransformer(arch=ARCH, img_size=32, patch_size=8, out_type='raw')
    reference.eval()
    result = reference.load_state_dict(model.state_dict(), strict=False)
    assert result.unexpected_keys == ['mask_token'] and not result.missing_keys
    images = torch.randn(2, 3, 32, 32)
    expected = reference(images)[-1]
    assert torch.equal(model(images)[-1], expected)
    tokens, queries = model.forward_tokens(images)
    assert queries is None and torch.allclose(tokens, expected, atol=1e-6)


@pytest.mark.parametrize('groups', [1, 2])
def test_queries_never_change_global_tokens(groups):
    model = _vit()
    images = torch.randn(2, 3, 32, 32)
    mask = torch.rand(2, 4, 4) > 0.5
    coords = torch.rand(2, 4 * groups, 2) * 6 - 1
    plain, _ = model.forward_tokens(images, mask)
    tokens, queries = model.forward_tokens(images, mask, coords, groups)
    assert queries.shape == (2, 4 * groups, 48)
    assert torch.allclose(tokens, plain, atol=1e-5)
    # and the queries do read the global tokens
    other, moved = model.forward_tokens(images.flip(0), mask, coords, groups)
    assert not torch.allclose(moved, queries, atol=1e-3)


def test_query_crops_are_independent():
    model = _vit()
    images = torch.randn(1, 3, 32, 32)
    coords = torch.rand(1, 8, 2) * 4
    _, both = model.forward_tokens(images, None, coords, num_query_groups=2)
    _, first = model.forward_tokens(images, None, coords[:, :4], num_query_groups=1)
    assert torch.allclose(both[:, :4], first, atol=1e-5)


def test_query_tokens_are_mask_token_plus_sincos():
    model = _vit()
    model.mask_token.data.normal_()
    coords = torch.tensor([[[0.5, 2.25], [3., -1.]]])
    expected = model.mask_token + sincos_2d_embed(coords, 48)
    assert torch.allclose(model.query_embed(coords), expected)


def test_mask_replaces_patch_embeddings():
    model = _vit()
    model.mask_token.data.normal_()
    images = torch.randn(1, 3, 32, 32)
    full = torch.ones(1, 4, 4, dtype=torch.bool)
    a, _ = model.forward_tokens(images, full)
    b, _ = model.forward_tokens(torch.randn(1, 3, 32, 32), full)
    assert torch.allclose(a, b, atol=1e-6)


def test_query_stream_gradients_flow_to_shared_weights():
    model = _vit()
    model.train()
    _, queries = model.forward_tokens(torch.randn(2, 3, 32, 32), None, torch.rand(2, 4, 2))
    queries.sum().backward()
    assert model.layers[0].attn.qkv.weight.grad.abs().sum() > 0
    assert model.mask_token.grad.abs().sum() > 0


def test_ibot_initialisation():
    model = _vit()
    ffn = model.layers[0].ffn.layers[0][0]
    assert abs(ffn.weight.std().item() - 0.02) < 0.004  # xavier would give ~0.12
    assert not ffn.bias.any() and torch.equal(model.layers[1].ln2.weight, torch.ones(48))
    assert model.cls_token.abs().sum() > 0


@pytest.mark.parametrize('rule', ['scale_factor', 'size'])
def test_query_crop_pos_table_follows_the_reference_resize(rule):
    """The teacher's query crops (4x4 grid here, 6x6 at 96 / 224 px) get the table the
    reference's interpolate_pos_encoding makes: bicubic, scale_factor (n + 0.1) / N."""
    torch.manual_seed(0)
    model = QueryViT(arch=ARCH, img_size=64, patch_size=8, out_type='raw', pos_resize=rule)
    model.init_weights()
    model.patch_embed.projection.weight.data.zero_()
    model.patch_embed.projection.bias.data.zero_()
    model.cls_token.data.zero_()
    seen = []
    model.drop_after_pos.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    with torch.no_grad():
        model.forward_tokens(torch.zeros(1, 3, 32, 32))
    cells = sincos_2d_table((8, 8), 48)[:, 1:].reshape(1, 8, 8, 48).permute(0, 3, 1, 2)
    if rule == 'scale_factor':
        cells = F.interpolate(cells, scale_factor=(4.1 / 8, 4.1 / 8), mode='bicubic')
    else:
        cells = F.interpolate(cells, size=(4, 4), mode='bicubic', align_corners=False)
    expected = cells.flatten(2).transpose(1, 2)
    torch.testing.assert_close(seen[0][:, 1:], expected, rtol=1e-5, atol=1e-6)
    assert not seen[0][:, 0].any()


def test_bad_pos_resize_is_named():
    with pytest.raises(ValueError, match='pos_resize'):
        QueryViT(arch=ARCH, img_size=32, patch_size=8, pos_resize='bilinear')


def test_drop_path_is_drawn_separately_per_stream():
    """The reference applies drop path to the global and the query branch in separate
    calls: with p = 0.5 the two streams of a sample disagree for about half of the
    samples (2 p (1 - p)); a decision shared by both streams never disagrees."""
    torch.manual_seed(0)
    model = QueryViT(arch=dict(ARCH, num_layers=2), img_size=32, patch_size=8,
                     out_type='raw', drop_path_rate=1.0)  # layer 1: p = 1.0 ...
    model.init_weights()
    model.train()
    decisions = {'attn': [], 'ffn': []}
    for name, drop_path in (('attn', model.layers[1].attn.out_drop),
                            ('ffn', model.layers[1].ffn.dropout_layer)):
        drop_path.drop_prob = 0.5  # ... set to 0.5
        drop_path.register_forward_hook(
            lambda module, args, out, name=name: decisions[name].append(
                out.flatten(1).abs().sum(1) == 0))
    with torch.no_grad():
        model.forward_tokens(torch.randn(400, 3, 32, 32), None, torch.rand(400, 4, 2) * 4)
    for name, (global_dropped, query_dropped) in decisions.items():
        assert global_dropped.float().mean().item() == pytest.approx(0.5, abs=0.08)
        assert query_dropped.float().mean().item() == pytest.approx(0.5, abs=0.08)
        disagree = (global_dropped != query_dropped).float().mean().item()
        assert disagree == pytest.approx(0.5, abs=0.08), name
