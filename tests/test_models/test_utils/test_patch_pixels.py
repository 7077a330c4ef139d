"""normalized_patch_pixels: patch order and per-patch normalisation by hand."""
import numpy as np
import pytest
import torch

from mmssl_ext.models.utils.patch_pixels import normalized_patch_pixels


def test_patches_and_normalisation_match_a_hand_computation():
    torch.manual_seed(0)
    images = torch.randn(2, 3, 4, 6)
    targets = normalized_patch_pixels(images, patch_size=2, eps=0.)
    assert targets.shape == (2, 6, 12)
    array = images.numpy()
    for b in range(2):
        for index in range(6):
            row, col = divmod(index, 3)
            patch = array[b, :, 2 * row:2 * row + 2, 2 * col:2 * col + 2]  # (3, 2, 2)
            values = patch.transpose(1, 2, 0).reshape(-1)  # (row, column, channel)
            expected = (values - values.mean()) / values.std(ddof=1)
            np.testing.assert_allclose(targets[b, index].numpy(), expected, rtol=1e-5,
                                       atol=1e-5)


def test_rejects_sizes_that_are_not_patch_multiples():
    with pytest.raises(ValueError, match='patch size'):
        normalized_patch_pixels(torch.zeros(1, 3, 10, 16), patch_size=4)
