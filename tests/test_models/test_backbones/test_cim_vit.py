"""CIMViT: the CIM reference's position-table resize and initialisation."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.selfsup import MoCoV3ViT

from mmssl_ext.models.backbones import CIMViT

ARCH = dict(embed_dims=64, num_layers=1, num_heads=2, feedforward_channels=128)


def _mae_table(grid, dims):
    """MAE's get_2d_sincos_pos_embed in numpy: (1 + grid^2, dims), zero class slot first;
    cell (row r, col c): [sin(c w), cos(c w), sin(r w), cos(r w)], w_k = 1e4^(-k / (D/4))."""
    omega = 1. / 10000**(np.arange(dims // 4) / (dims / 4))
    rows, cols = np.meshgrid(np.arange(grid), np.arange(grid), indexing='ij')
    parts = []
    for position in (cols.reshape(-1), rows.reshape(-1)):
        angles = np.outer(position, omega)
        parts += [np.sin(angles), np.cos(angles)]
    return np.concatenate([np.zeros((1, dims)), np.concatenate(parts, axis=1)])


def _reference_resize(table, grid, size):
    """The reference's interpolate_pos_encoding: bicubic with scale_factor (n + 0.1) / N."""
    cells = table[:, 1:].reshape(1, grid, grid, -1).permute(0, 3, 1, 2)
    n = size + 0.1
    cells = F.interpolate(cells, scale_factor=(n / grid, n / grid), mode='bicubic')
    assert cells.shape[-2:] == (size, size)
    return torch.cat([table[:, :1], cells.permute(0, 2, 3, 1).reshape(1, size * size, -1)], 1)


def _tokens_after_pos(model, image_size):
    """What the first block sees for an image whose patch embeddings are all zero."""
    seen = {}
    handle = model.drop_after_pos.register_forward_hook(
        lambda module, args, out: seen.setdefault('tokens', args[0]))
    with torch.no_grad():
        model(torch.zeros(1, 3, image_size, image_size))
    handle.remove()
    return seen['tokens']


def _model(**kwargs):
    torch.manual_seed(0)
    model = CIMViT(arch=ARCH, img_size=224, patch_size=16, stop_grad_conv1=True,
                   out_type='raw', **kwargs)
    model.init_weights()
    return model


def test_pos_embed_is_fixed_at_construction():
    model = CIMViT(arch=ARCH, img_size=224, patch_size=16, out_type='raw')
    assert not model.pos_embed.requires_grad  # before init_weights: DDP-safe
    model.init_weights()
    assert not model.pos_embed.requires_grad
    torch.testing.assert_close(model.pos_embed.data[0],
                               torch.from_numpy(_mae_table(14, 64)).float())


@pytest.mark.parametrize('grid', [4, 10, 14])
def test_pos_table_is_resized_as_the_reference(grid):
    """Exemplar (4x4) and context (10x10) grids get the reference's table."""
    model = _model()
    model.patch_embed.projection.bias.data.zero_()
    model.cls_token.data.zero_()
    table = torch.from_numpy(_mae_table(14, 64)).float()[None]
    expected = table if grid == 14 else _reference_resize(table, 14, grid)
    torch.testing.assert_close(_tokens_after_pos(model, 16 * grid), expected,
                               rtol=1e-5, atol=1e-6)


def test_size_rule_is_mmpretrains_and_differs():
    """``pos_resize='size'`` is MoCoV3ViT's resize; at 4x4 it is up to 6 % (per-token
    L2) away from the reference's table."""
    ours = _model(pos_resize='size')
    mocov3 = MoCoV3ViT(arch=ARCH, img_size=224, patch_size=16, out_type='raw')
    mocov3.load_state_dict(ours.state_dict())
    images = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(ours(images)[-1], mocov3(images)[-1], rtol=0, atol=0)
    for model in (ours, mocov3):
        model.patch_embed.projection.bias.data.zero_()
        model.cls_token.data.zero_()
    table = torch.from_numpy(_mae_table(14, 64)).float()[None]
    size_rule = _tokens_after_pos(ours, 64)[0, 1:]
    reference = _reference_resize(table, 14, 4)[0, 1:]
    relative = ((size_rule - reference).norm(dim=-1) / reference.norm(dim=-1)).max().item()
    assert 0.03 < relative < 0.1


def test_init_matches_the_reference():
    """xavier-uniform over the whole qkv weight (MoCo v3: per q / k / v, std 1.41x),
    class token std 0.02 (MoCo v3: 1e-6), frozen uniform patch embedding."""
    dims = 384
    arch = dict(embed_dims=dims, num_layers=2, num_heads=6, feedforward_channels=4 * dims)
    torch.manual_seed(0)
    model = CIMViT(arch=arch, img_size=224, patch_size=16, stop_grad_conv1=True,
                   out_type='raw')
    model.init_weights()
    mocov3 = MoCoV3ViT(arch=arch, img_size=224, patch_size=16, stop_grad_conv1=True,
                       out_type='raw')
    mocov3.init_weights()

    def xavier_std(fan_out, fan_in):  # std of U(-a, a), a = sqrt(6 / (fan_in + fan_out))
        return math.sqrt(6 / (fan_in + fan_out)) / math.sqrt(3)

    shapes = {'attn.qkv': (3 * dims, dims), 'attn.proj': (dims, dims),
              'ffn.layers.0.0': (4 * dims, dims), 'ffn.layers.1': (dims, 4 * dims)}
    for name, (fan_out, fan_in) in shapes.items():
        weight = model.state_dict()[f'layers.1.{name}.weight']
        bound = math.sqrt(6 / (fan_in + fan_out))
        assert weight.abs().max() <= bound
        assert weight.std().item() == pytest.approx(xavier_std(fan_out, fan_in), rel=0.02)
        assert not model.state_dict()[f'layers.1.{name}.bias'].any()
    ratio = mocov3.layers[0].attn.qkv.weight.std() / model.layers[0].attn.qkv.weight.std()
    assert ratio.item() == pytest.approx(math.sqrt(2), rel=0.02)
    assert model.cls_token.std().item() == pytest.approx(0.02, rel=0.1)
    projection = model.patch_embed.projection
    assert not projection.weight.requires_grad and not projection.bias.any()
    assert projection.weight.std().item() == pytest.approx(
        xavier_std(dims, 3 * 16 * 16), rel=0.02)


def test_trainable_patch_embedding_gets_the_reference_conv_init():
    torch.manual_seed(0)
    model = CIMViT(arch=dict(ARCH, embed_dims=256), img_size=224, patch_size=16,
                   stop_grad_conv1=False, out_type='raw')
    model.init_weights()
    assert model.patch_embed.projection.weight.std().item() == pytest.approx(
        math.sqrt(2 / (16 * 16 * 256)), rel=0.02)


def test_bad_rule_is_named():
    with pytest.raises(ValueError, match='pos_resize'):
        CIMViT(arch=ARCH, img_size=224, patch_size=16, pos_resize='nearest')
