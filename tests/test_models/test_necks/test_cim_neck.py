"""CIMNeck: the correlation decoder against an explicit per-pair re-implementation."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmssl_ext.models.necks import CIMNeck
from mmssl_ext.models.utils import CrossAttention


def layer_norm(x, norm):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean)**2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias


def naive_attention(attn, queries, memory):
    """softmax(q k^T / sqrt(d)) v per head, from the module's raw weights. (Nq, C), (Nk, C)."""
    channels = queries.shape[-1]
    head_dims = channels // attn.num_heads
    q = queries @ attn.q.weight.T + attn.q.bias
    kv = memory @ attn.kv.weight.T + attn.kv.bias
    k, v = kv[:, :channels], kv[:, channels:]
    heads = []
    for h in range(attn.num_heads):
        part = slice(h * head_dims, (h + 1) * head_dims)
        scores = q[:, part] @ k[:, part].T / math.sqrt(head_dims)
        weights = scores.exp() / scores.exp().sum(-1, keepdim=True)
        heads.append(weights @ v[:, part])
    return torch.cat(heads, -1) @ attn.proj.weight.T + attn.proj.bias


def mae_sincos_table(grid_h, grid_w, embed_dims):
    """MAE's table written out per token: [sin(x w), cos(x w), sin(y w), cos(y w)]."""
    quarter = embed_dims // 4
    omega = [10000.**(-k / quarter) for k in range(quarter)]
    rows = [[0.] * embed_dims]
    for y in range(grid_h):
        for x in range(grid_w):
            rows.append([math.sin(x * o) for o in omega] + [math.cos(x * o) for o in omega]
                        + [math.sin(y * o) for o in omega] + [math.cos(y * o) for o in omega])
    return torch.tensor(rows, dtype=torch.float64).float()  # the neck keeps a float32 buffer


def naive_neck(neck, context_tokens, exemplar_tokens, output_size):
    """Loop over (image, exemplar) pairs, explicit formulas everywhere."""
    batch, num_exemplars = exemplar_tokens.shape[:2]
    grid_h, grid_w = neck.context_grid(context_tokens.shape[1] - 1, output_size)
    embed_dims = neck.embed.out_features
    pos = mae_sincos_table(grid_h, grid_w, embed_dims)
    out = torch.empty(batch, num_exemplars, 2, *output_size, dtype=context_tokens.dtype)
    for b in range(batch):
        for n in range(num_exemplars):
            x = context_tokens[b] @ neck.embed.weight.T + neck.embed.bias + pos.double()
            t = exemplar_tokens[b, n] @ neck.embed.weight.T + neck.embed.bias
            for block in neck.blocks:
                x = x + naive_attention(block.attn, layer_norm(x, block.norm1),
                                        layer_norm(t, block.norm1))
                fc1, fc2 = block.ffn.layers[0][0], block.ffn.layers[1]
                hidden = layer_norm(x, block.norm2) @ fc1.weight.T + fc1.bias
                hidden = 0.5 * hidden * (1 + torch.erf(hidden / math.sqrt(2)))
                x = x + hidden @ fc2.weight.T + fc2.bias
            cells = layer_norm(x, neck.norm)[1:]  # drop the class token
            weight = neck.predictor.weight[:, :, 0, 0]
            cell_logits = (cells @ weight.T + neck.predictor.bias).T.reshape(2, grid_h, grid_w)
            out[b, n] = F.interpolate(cell_logits[None], size=output_size, mode='bilinear',
                                      align_corners=True)[0]
    return out


def tiny_neck(depth=1):
    torch.manual_seed(0)
    neck = CIMNeck(in_channels=12, embed_dims=16, num_heads=4, depth=depth, mlp_ratio=2.)
    neck.init_weights()
    with torch.no_grad():  # non-trivial affine norms, so "the same norm1" is checked
        for name, param in neck.named_parameters():
            if 'norm' in name:
                param.copy_(torch.randn_like(param))
    return neck.double()


@pytest.mark.parametrize('depth', [1, 2])
def test_matches_explicit_per_pair_computation(depth):
    neck = tiny_neck(depth)
    context_tokens = torch.randn(2, 1 + 3 * 4, 12, dtype=torch.float64)
    exemplar_tokens = torch.randn(2, 3, 1 + 2 * 2, 12, dtype=torch.float64)
    logits = neck(context_tokens, exemplar_tokens, (9, 13))
    assert logits.shape == (2, 3, 2, 9, 13)
    expected = naive_neck(neck, context_tokens, exemplar_tokens, (9, 13))
    torch.testing.assert_close(logits, expected, rtol=1e-9, atol=1e-9)


def test_pair_depends_only_on_its_own_exemplar():
    neck = tiny_neck()
    context_tokens = torch.randn(2, 13, 12, dtype=torch.float64)
    exemplar_tokens = torch.randn(2, 3, 5, 12, dtype=torch.float64)
    logits = neck(context_tokens, exemplar_tokens, (6, 8))
    perturbed = exemplar_tokens.clone()
    perturbed[1, 2] += torch.randn(5, 12, dtype=torch.float64)
    new_logits = neck(context_tokens, perturbed, (6, 8))
    changed = (new_logits - logits).abs().amax(dim=(2, 3, 4)) > 1e-6
    expected = torch.zeros(2, 3, dtype=torch.bool)
    expected[1, 2] = True
    assert torch.equal(changed, expected)


def test_attention_uses_sdpa(monkeypatch):
    calls = []
    sdpa = F.scaled_dot_product_attention

    def counting_sdpa(*args, **kwargs):
        calls.append(args[0].shape)
        return sdpa(*args, **kwargs)

    monkeypatch.setattr(F, 'scaled_dot_product_attention', counting_sdpa)
    neck = tiny_neck(depth=2).float()
    neck(torch.randn(2, 13, 12), torch.randn(2, 3, 5, 12), (6, 8))
    # one call per block, all B*N pairs batched: (B*N, heads, queries, head_dims)
    assert calls == [torch.Size([6, 4, 13, 4])] * 2


def test_cross_attention_matches_explicit_softmax():
    torch.manual_seed(0)
    attn = CrossAttention(8, 2).double()
    queries = torch.randn(3, 5, 8, dtype=torch.float64)
    memory = torch.randn(3, 7, 8, dtype=torch.float64)
    out = attn(queries, memory)
    for i in range(3):
        torch.testing.assert_close(out[i], naive_attention(attn, queries[i], memory[i]))


def test_init_follows_reference():
    neck = CIMNeck(in_channels=64, embed_dims=256, num_heads=4)
    neck.init_weights()
    # predictor ~ N(0, 2 / fan_out), fan_out = 2 output channels -> std 1
    assert abs(neck.predictor.weight.std().item() - 1.) < 0.1
    bound = math.sqrt(6 / (64 + 256))  # xavier-uniform of the shared embedding
    assert neck.embed.weight.abs().max() <= bound and neck.embed.weight.std() > 0.5 * bound
    assert not neck.embed.bias.any() and not neck.blocks[0].attn.kv.bias.any()
    assert 'pos_embed' not in neck.state_dict()


@pytest.mark.parametrize('kwargs, name', [
    (dict(embed_dims=30, num_heads=3), 'embed_dims'),
    (dict(embed_dims=32, num_heads=5), 'num_heads'),
    (dict(depth=0), 'depth'),
])
def test_bad_parameters_fail_at_build(kwargs, name):
    with pytest.raises(ValueError, match=name):
        CIMNeck(**kwargs)


@pytest.mark.parametrize('cells, size, grid', [(12, (9, 13), (3, 4)), (100, (160, 160), (10, 10)),
                                               (4, (64, 64), (2, 2)), (6, (64, 96), (2, 3))])
def test_context_grid_is_derived_from_tokens_and_image(cells, size, grid):
    assert CIMNeck.context_grid(cells, size) == grid


def test_wrong_context_length_is_reported():
    neck = tiny_neck().float()
    for num_tokens in (1 + 7, 1 + 5):  # no grid of 7 or 5 cells tiles 8 x 6 with square cells
        with pytest.raises(ValueError, match='context tokens'):
            neck(torch.randn(1, num_tokens, 12), torch.randn(1, 2, 5, 12), (8, 6))
