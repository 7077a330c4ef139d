"""AttentiveProbeNeck: one learned query over the patch tokens, no skip, BN without affine."""
import pytest
import torch
import torch.nn.functional as F

from mmssl_ext.models.necks import AttentiveProbeNeck


def test_pooling_by_hand():
    torch.manual_seed(0)
    neck = AttentiveProbeNeck(in_channels=8, num_heads=2)
    neck.init_weights()
    tokens = torch.randn(4, 1 + 6, 8)
    neck.eval()  # BN with running statistics 0 / 1: identity up to eps
    pooled = neck((tokens, ))[0]
    assert pooled.shape == (4, 8)

    attn = neck.cross_attn
    patches = tokens[:, 1:]
    query = neck.norm_q(neck.query_token).expand(4, -1, -1)
    keys, values = neck.norm_k(patches), neck.norm_v(patches)
    q = F.linear(query, attn.q.weight, attn.q_bias).view(4, 1, 2, 4).transpose(1, 2)
    k = F.linear(keys, attn.k.weight).view(4, 6, 2, 4).transpose(1, 2)
    v = F.linear(values, attn.v.weight, attn.v_bias).view(4, 6, 2, 4).transpose(1, 2)
    weights = (q @ k.transpose(-1, -2) / 2.0).softmax(-1)  # head dim 4: scale 1/2
    expected = attn.proj((weights @ v).transpose(1, 2).reshape(4, 1, 8))[:, 0]
    torch.testing.assert_close(pooled, expected / (1 + 1e-6)**0.5, rtol=1e-5, atol=1e-6)
    assert not any(p.requires_grad for p in neck.bn.parameters())
    assert not neck.bn.affine


def test_class_token_is_ignored_unless_asked():
    torch.manual_seed(0)
    neck = AttentiveProbeNeck(in_channels=8, num_heads=2)
    neck.eval()
    tokens = torch.randn(2, 5, 8)
    changed = tokens.clone()
    changed[:, 0] = torch.randn(2, 8) * 3
    torch.testing.assert_close(neck((tokens, ))[0], neck((changed, ))[0])
    with_cls = AttentiveProbeNeck(in_channels=8, num_heads=2, use_cls_token=True)
    with_cls.load_state_dict(neck.state_dict())
    with_cls.eval()
    assert not torch.allclose(with_cls((tokens, ))[0], with_cls((changed, ))[0])


def test_needs_token_sequences():
    with pytest.raises(ValueError, match="out_type='raw'"):
        AttentiveProbeNeck(in_channels=8, num_heads=2)((torch.randn(2, 8), ))
