"""IBOTProjectionHead: MLP, L2 normalisation, weight-normed last layer."""
import pytest
import torch
import torch.nn.functional as F

from mmssl_ext.models.heads import IBOTProjectionHead


def test_forward_is_cosine_to_prototypes_times_magnitude():
    torch.manual_seed(0)
    head = IBOTProjectionHead(16, out_channels=32, hidden_channels=24, bottleneck_channels=8)
    x = torch.randn(2, 5, 16)
    out = head(x)
    assert out.shape == (2, 5, 32)
    direction = head.last_layer.parametrizations.weight.original1
    expected = F.normalize(head.mlp(x), dim=-1) @ F.normalize(direction, dim=1).t()
    assert torch.allclose(out, expected, atol=1e-6)
    assert len([m for m in head.mlp if isinstance(m, torch.nn.Linear)]) == 3
    assert head.last_layer.bias is None


@pytest.mark.parametrize('norm_last_layer', [True, False])
def test_norm_last_layer_freezes_the_magnitude(norm_last_layer):
    head = IBOTProjectionHead(16, out_channels=32, hidden_channels=24, bottleneck_channels=8,
                              norm_last_layer=norm_last_layer)
    magnitude = head.last_layer.parametrizations.weight.original0
    assert torch.equal(magnitude, torch.ones_like(magnitude))
    assert magnitude.requires_grad is not norm_last_layer


def test_bad_num_layers():
    with pytest.raises(ValueError, match='num_layers'):
        IBOTProjectionHead(16, num_layers=0)


def test_use_bn_normalises_over_all_tokens_of_a_call():
    """With ``use_bn`` every hidden layer is Linear -> BN -> GELU, the BN statistics taken
    over all (B * L) tokens of a (B, L, D) call (train mode), as a hand-written MLP."""
    torch.manual_seed(0)
    head = IBOTProjectionHead(16, out_channels=32, hidden_channels=24, bottleneck_channels=8,
                              use_bn=True)
    kinds = [type(m).__name__ for m in head.mlp]
    assert kinds == ['Linear', 'BatchNorm1d', 'GELU', 'Linear', 'BatchNorm1d', 'GELU', 'Linear']
    x = torch.randn(3, 5, 16)
    out = head(x)

    def bn(h):  # batch statistics, biased variance, eps 1e-5, affine at init (1, 0)
        return (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + 1e-5)

    linears = [m for m in head.mlp if isinstance(m, torch.nn.Linear)]
    h = x.reshape(15, 16)
    for linear in linears[:-1]:
        h = F.gelu(bn(linear(h)))
    h = F.normalize(linears[-1](h), dim=-1).reshape(3, 5, 8)
    direction = head.last_layer.parametrizations.weight.original1
    torch.testing.assert_close(out, h @ F.normalize(direction, dim=1).t(), rtol=1e-5,
                               atol=1e-5)
    # the same tokens as one (15, D) batch: identical logits
    torch.testing.assert_close(head(x.reshape(15, 16)).reshape(3, 5, 32), out)
