"""CIMResNet: last-stage map as (average token + row-major cells)."""
import pytest
import torch
from mmpretrain.models.backbones import ResNet

from mmssl_ext.models.backbones import CIMResNet

TINY = dict(depth=18, stem_channels=8, base_channels=8)  # C5 width 64


@pytest.mark.parametrize('size, grid', [(160, (5, 5)), (64, (2, 2))])
def test_tokens_are_average_plus_c5_cells(size, grid):
    torch.manual_seed(0)
    encoder, plain = CIMResNet(**TINY), ResNet(**TINY)
    plain.load_state_dict(encoder.state_dict())  # same keys as a plain ResNet
    encoder.eval()  # ResNet.train() returns None: no chaining
    plain.eval()
    images = torch.randn(2, 3, size, size)
    tokens, = encoder(images)
    feature_map, = plain(images)
    assert feature_map.shape == (2, 64, *grid)
    assert tokens.shape == (2, 1 + grid[0] * grid[1], 64)
    torch.testing.assert_close(tokens[:, 0], feature_map.mean(dim=(2, 3)))
    row, col = grid[0] - 1, 0
    torch.testing.assert_close(tokens[:, 1 + row * grid[1] + col], feature_map[:, :, row, col])


def test_out_indices_is_rejected():
    with pytest.raises(ValueError, match='out_indices'):
        CIMResNet(depth=18, out_indices=(2, 3))
