"""SDPA attention modules equal mmpretrain's explicit-softmax originals."""
import pytest
import torch
from mmpretrain.models.utils import BEiTAttention, CrossMultiheadAttention

from mmssl_ext.models.utils.sdpa_attention import (SDPABEiTAttention,
                                                   SDPACrossMultiheadAttention,
                                                   sdpa_beit_layer)


def _randomise(module):
    torch.manual_seed(0)
    with torch.no_grad():
        for param in module.parameters():
            param.normal_(0, 0.3)
    return module


@pytest.mark.parametrize('bias', ['qv_bias', True, False])
@pytest.mark.parametrize('rel_pos', [False, True])
def test_beit_attention(bias, rel_pos):
    kwargs = dict(embed_dims=16, num_heads=4, window_size=(3, 3) if rel_pos else None,
                  use_rel_pos_bias=rel_pos, bias=bias)
    reference = _randomise(BEiTAttention(**kwargs)).eval()
    ours = SDPABEiTAttention(**kwargs).eval()
    assert ours.load_state_dict(reference.state_dict()) is not None
    x = torch.randn(2, 10, 16)
    shared_bias = torch.randn(4, 10, 10)
    torch.testing.assert_close(ours(x), reference(x))
    torch.testing.assert_close(ours(x, rel_pos_bias=shared_bias),
                               reference(x, rel_pos_bias=shared_bias))


def test_cross_attention():
    reference = _randomise(CrossMultiheadAttention(16, num_heads=4, qkv_bias=True)).eval()
    ours = SDPACrossMultiheadAttention(16, num_heads=4, qkv_bias=True).eval()
    ours.load_state_dict(reference.state_dict())
    x, k, v = torch.randn(2, 5, 16), torch.randn(2, 7, 16), torch.randn(2, 7, 16)
    torch.testing.assert_close(ours(x, k=k, v=v), reference(x, k=k, v=v))


def test_layer_builder_swaps_only_the_attention():
    layer = sdpa_beit_layer(embed_dims=16, num_heads=4, feedforward_channels=32,
                            layer_scale_init_value=0.1, window_size=None,
                            use_rel_pos_bias=False)
    assert type(layer.attn) is SDPABEiTAttention
    assert {'attn.q_bias', 'attn.v_bias', 'attn.qkv.weight', 'gamma_1'} <= set(
        layer.state_dict())
