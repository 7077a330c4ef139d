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
