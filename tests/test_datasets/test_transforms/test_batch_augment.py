"""Batched per-sample photometric augmentation."""
import colorsys

import pytest
import torch

from mmssl_ext.datasets.transforms import BatchPhotometricAugment
from mmssl_ext.datasets.transforms.batch_augment import _hsv_to_rgb, _rgb_to_hsv

OFF = dict(jitter_prob=0., gray_prob=0., blur_prob=0., solarize_prob=0., flip_prob=0.)


def _images(num=8, size=12):
    torch.manual_seed(0)
    return torch.rand(num, 3, size, size) * 255


def test_all_off_is_identity():
    images = _images()
    torch.testing.assert_close(BatchPhotometricAugment(**OFF)(images), images)


def test_hsv_matches_colorsys():
    pixels = torch.rand(50, 3)
    hsv = _rgb_to_hsv(pixels.view(50, 3, 1, 1)).view(50, 3)
    for rgb, ours in zip(pixels.tolist(), hsv.tolist()):
        assert ours == pytest.approx(list(colorsys.rgb_to_hsv(*rgb)), abs=1e-5)
    torch.testing.assert_close(_hsv_to_rgb(hsv.view(50, 3, 1, 1)).view(50, 3), pixels)


def test_flip_mirrors_exactly_and_per_sample():
    images = _images(num=400, size=4)
    out = BatchPhotometricAugment(**{**OFF, 'flip_prob': 0.5})(images)
    flipped = (out == images.flip(-1)).flatten(1).all(1)
    kept = (out == images).flatten(1).all(1)
    assert bool((flipped | kept).all())
    assert 0.4 < flipped.float().mean().item() < 0.6


def test_grayscale_probability_and_values():
    images = _images(num=1000, size=2)
    out = BatchPhotometricAugment(**{**OFF, 'gray_prob': 0.2})(images)
    gray = (out[:, 0] == out[:, 1]).flatten(1).all(1) & (out[:, 1] == out[:, 2]).flatten(1).all(1)
    assert 0.16 < gray.float().mean().item() < 0.24
    luma = 0.299 * images[:, 0] + 0.587 * images[:, 1] + 0.114 * images[:, 2]
    torch.testing.assert_close(out[gray][:, 0], luma[gray])


def test_solarize_inverts_above_threshold():
    images = _images()
    out = BatchPhotometricAugment(**{**OFF, 'solarize_prob': 1.})(images)
    expected = torch.where(images >= 128, 255 - images, images)
    torch.testing.assert_close(out, expected)


def test_blur_preserves_constant_images_and_smooths_noise():
    constant = torch.full((4, 3, 16, 16), 77.)
    augment = BatchPhotometricAugment(**{**OFF, 'blur_prob': 1.})
    torch.testing.assert_close(augment(constant), constant)
    noise = _images(num=4, size=32)
    blurred = augment(noise)
    assert bool((blurred.std((1, 2, 3)) < noise.std((1, 2, 3))).all())
    torch.testing.assert_close(blurred.mean(), noise.mean(), rtol=0.02, atol=0)


def test_jitter_keeps_range_and_changes_images():
    images = _images(num=64)
    out = BatchPhotometricAugment(**{**OFF, 'jitter_prob': 1.})(images)
    assert out.min() >= 0 and out.max() <= 255
    changed = ~torch.isclose(out, images, atol=1e-3).flatten(1).all(1)
    assert changed.float().mean() > 0.9


def test_same_seed_same_output():
    images = _images()
    augment = BatchPhotometricAugment()
    first = augment(images, generator=torch.Generator().manual_seed(3))
    second = augment(images, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(first, second)


@pytest.mark.parametrize('kwargs,name', [
    (dict(gray_prob=1.5), 'gray_prob'), (dict(hue=0.7), 'hue'),
    (dict(brightness=-1), 'brightness'), (dict(blur_sigma=(2., 1.)), 'blur_sigma')])
def test_bad_parameters_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        BatchPhotometricAugment(**kwargs)
