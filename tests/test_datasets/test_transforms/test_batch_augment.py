"""Batched per-sample photometric augmentation."""
import colorsys

import pytest
import torch
import torch.nn.functional as F

from mmssl_ext.datasets.transforms import BatchPhotometricAugment
from mmssl_ext.datasets.transforms.batch_augment import (_gaussian_kernels, _grayscale,
                                                         _hsv_to_rgb, _rgb_to_hsv)

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


def _whole_batch_reference(augment, images, generator):
    """The augmentation computed for every image and selected with torch.where (the
    earlier implementation), drawing the random numbers in the same order."""
    num, channels, height, width = images.shape

    def rand():
        return torch.rand(num, generator=generator)

    def draw(prob):
        return (rand() < prob).view(-1, 1, 1, 1)

    def factors(strength):
        low, high = max(0., 1 - strength), 1 + strength
        return (low + (high - low) * rand()).view(-1, 1, 1, 1)

    jittered = (images * factors(augment.brightness)).clamp(0, 255)
    mean = _grayscale(jittered).mean((2, 3), keepdim=True)
    jittered = (mean + (jittered - mean) * factors(augment.contrast)).clamp(0, 255)
    gray = _grayscale(jittered)
    jittered = (gray + (jittered - gray) * factors(augment.saturation)).clamp(0, 255)
    hsv = _rgb_to_hsv(jittered / 255)
    shift = ((2 * rand() - 1) * augment.hue).view(-1, 1, 1, 1)
    jittered = _hsv_to_rgb(torch.cat([(hsv[:, :1] + shift) % 1.0, hsv[:, 1:]], 1)) * 255
    images = torch.where(draw(augment.jitter_prob), jittered, images)
    images = torch.where(draw(augment.gray_prob), _grayscale(images).expand_as(images),
                         images)
    low, high = augment.blur_sigma
    sigmas = low + (high - low) * rand()
    radius = min(int(3 * high + 0.5), (min(height, width) - 1) // 2)
    kernels = _gaussian_kernels(sigmas, radius).repeat_interleave(channels, 0)
    flat = F.pad(images.reshape(1, num * channels, height, width), (radius, ) * 4,
                 mode='reflect')
    flat = F.conv2d(flat, kernels.view(num * channels, 1, 1, -1), groups=num * channels)
    flat = F.conv2d(flat, kernels.view(num * channels, 1, -1, 1), groups=num * channels)
    images = torch.where(draw(augment.blur_prob), flat.view_as(images), images)
    solarized = torch.where(images >= augment.solarize_threshold, 255 - images, images)
    images = torch.where(draw(augment.solarize_prob), solarized, images)
    return torch.where(draw(augment.flip_prob), images.flip(-1), images)


@pytest.mark.parametrize('probs', [
    {}, dict(jitter_prob=0.5, gray_prob=0.5, blur_prob=0.5, solarize_prob=0.5),
    dict(jitter_prob=1., gray_prob=0., blur_prob=1., solarize_prob=0., flip_prob=1.)])
def test_only_the_drawn_images_are_computed_with_the_same_result(probs):
    images = _images(num=16, size=20)
    augment = BatchPhotometricAugment(**probs)
    for seed in range(3):
        ours = augment(images, generator=torch.Generator().manual_seed(seed))
        expected = _whole_batch_reference(augment, images,
                                          torch.Generator().manual_seed(seed))
        torch.testing.assert_close(ours, expected, rtol=0, atol=1e-3)
