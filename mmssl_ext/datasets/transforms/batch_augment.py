"""Photometric augmentations of a batch of images on its device, per-sample random.

The batched counterparts of mmpretrain's ``RandomApply(ColorJitter)``,
``RandomGrayscale``, ``GaussianBlur``, ``Solarize`` and ``RandomFlip``: every image of
an (M, 3, H, W) RGB batch in [0, 255] draws its own parameters, and all images are
processed by the same tensor ops (no loop over images). Each augmentation is computed
only for the images that drew it (gathered with ``index_select``, written back with
``index_copy``; on a GPU each selection waits once for the count of chosen images); its
random parameters are still drawn for the whole batch, so a seeded generator gives the
same output as computing every branch for all images. One documented difference:
the colour-jitter steps run in the fixed order brightness, contrast, saturation, hue
(torchvision / mmpretrain shuffle the order per image).
"""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmssl_ext.registry import MODELS

GRAY_WEIGHTS = (0.299, 0.587, 0.114)  # RGB, as mmpretrain / PIL


def _grayscale(images: torch.Tensor) -> torch.Tensor:
    """(M, 3, H, W) RGB -> (M, 1, H, W) luma."""
    weights = images.new_tensor(GRAY_WEIGHTS).view(1, 3, 1, 1)
    return (images * weights).sum(1, keepdim=True)


def _rgb_to_hsv(images: torch.Tensor) -> torch.Tensor:
    """(M, 3, H, W) RGB in [0, 1] -> HSV with hue in [0, 1)."""
    red, green, blue = images.unbind(1)
    maximum, argmax = images.max(1)
    minimum = images.min(1).values
    delta = maximum - minimum
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    hue = torch.stack([(green - blue) / safe, (blue - red) / safe + 2,
                       (red - green) / safe + 4], 1).gather(1, argmax.unsqueeze(1)).squeeze(1)
    hue = torch.where(delta > 0, (hue / 6) % 1.0, torch.zeros_like(hue))
    saturation = torch.where(maximum > 0, delta / maximum.clamp(min=1e-12),
                             torch.zeros_like(maximum))
    return torch.stack([hue, saturation, maximum], 1)


def _hsv_to_rgb(images: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`_rgb_to_hsv`."""
    hue, saturation, value = images.unbind(1)
    offsets = images.new_tensor([5.0, 3.0, 1.0]).view(1, 3, 1, 1)
    k = (offsets + hue.unsqueeze(1) * 6) % 6
    ramp = torch.minimum(k, 4 - k).clamp(0, 1)
    return value.unsqueeze(1) * (1 - saturation.unsqueeze(1) * ramp)


def _gaussian_kernels(sigmas: torch.Tensor, radius: int) -> torch.Tensor:
    """(M,) sigmas -> (M, 2 * radius + 1) normalised 1-D Gaussian kernels."""
    taps = torch.arange(-radius, radius + 1, device=sigmas.device, dtype=sigmas.dtype)
    kernels = torch.exp(-taps.view(1, -1)**2 / (2 * sigmas.view(-1, 1)**2))
    return kernels / kernels.sum(1, keepdim=True)


def _apply_to(images: torch.Tensor, chosen: torch.Tensor, augment) -> torch.Tensor:
    """``images`` with ``augment(subset, index)`` replacing the images where the (M,)
    bool ``chosen`` is True; ``index`` holds their positions in the batch."""
    index = chosen.nonzero().squeeze(1)
    if len(index) == 0:
        return images
    return images.index_copy(0, index, augment(images.index_select(0, index), index))


@MODELS.register_module()
class BatchPhotometricAugment(nn.Module):
    """Per-sample random colour jitter, grayscale, blur, solarize and flip of a batch.

    Args:
        jitter_prob (float): probability of colour jitter. Defaults to 0.8.
        brightness, contrast, saturation (float): jitter strengths s: factors drawn
            from U(1 - s, 1 + s). Defaults to 0.4, 0.4, 0.2.
        hue (float): hue shift drawn from U(-hue, hue), in [0, 0.5]. Defaults to 0.1.
        gray_prob (float): probability of grayscale. Defaults to 0.2.
        blur_prob (float): probability of Gaussian blur. Defaults to 0.5.
        blur_sigma (Sequence[float]): range of the blur sigma. Defaults to (0.1, 2.0).
        solarize_prob (float): probability of solarization. Defaults to 0.2.
        solarize_threshold (float): pixels >= threshold are inverted. Defaults to 128.
        flip_prob (float): probability of a horizontal flip. Defaults to 0.5.
    """

    def __init__(self,
                 jitter_prob: float = 0.8,
                 brightness: float = 0.4,
                 contrast: float = 0.4,
                 saturation: float = 0.2,
                 hue: float = 0.1,
                 gray_prob: float = 0.2,
                 blur_prob: float = 0.5,
                 blur_sigma: Sequence[float] = (0.1, 2.0),
                 solarize_prob: float = 0.2,
                 solarize_threshold: float = 128.,
                 flip_prob: float = 0.5) -> None:
        super().__init__()
        for name, value in (('jitter_prob', jitter_prob), ('gray_prob', gray_prob),
                            ('blur_prob', blur_prob), ('solarize_prob', solarize_prob),
                            ('flip_prob', flip_prob)):
            if not 0. <= value <= 1.:
                raise ValueError(f'{name} must be in [0, 1], got {value}')
        for name, value in (('brightness', brightness), ('contrast', contrast),
                            ('saturation', saturation)):
            if value < 0:
                raise ValueError(f'{name} must be >= 0, got {value}')
        if not 0. <= hue <= 0.5:
            raise ValueError(f'hue must be in [0, 0.5], got {hue}')
        if len(blur_sigma) != 2 or not 0 < blur_sigma[0] <= blur_sigma[1]:
            raise ValueError(f'blur_sigma must be (low, high) with 0 < low <= high, '
                             f'got {blur_sigma}')
        self.jitter_prob, self.gray_prob = jitter_prob, gray_prob
        self.brightness, self.contrast, self.saturation, self.hue = (
            brightness, contrast, saturation, hue)
        self.blur_prob, self.blur_sigma = blur_prob, tuple(blur_sigma)
        self.solarize_prob, self.solarize_threshold = solarize_prob, solarize_threshold
        self.flip_prob = flip_prob

    @staticmethod
    def _draw(num: int, prob: float, images: torch.Tensor,
              generator: Optional[torch.Generator]) -> torch.Tensor:
        """(M,) bool: which images get an augmentation applied."""
        return torch.rand(num, device=images.device, generator=generator) < prob

    def _factors(self, num: int, strength: float, images: torch.Tensor,
                 generator: Optional[torch.Generator]) -> torch.Tensor:
        low, high = max(0., 1 - strength), 1 + strength
        return (low + (high - low) * torch.rand(
            num, device=images.device, generator=generator)).view(-1, 1, 1, 1)

    def _color_jitter(self, images: torch.Tensor, generator) -> torch.Tensor:
        num = len(images)
        brightness = self._factors(num, self.brightness, images, generator)
        contrast = self._factors(num, self.contrast, images, generator)
        saturation = self._factors(num, self.saturation, images, generator)
        shift = (2 * torch.rand(num, device=images.device, generator=generator) - 1) * self.hue

        def jitter(subset: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
            jittered = (subset * brightness[index]).clamp(0, 255)
            mean = _grayscale(jittered).mean((2, 3), keepdim=True)
            jittered = (mean + (jittered - mean) * contrast[index]).clamp(0, 255)
            gray = _grayscale(jittered)
            jittered = (gray + (jittered - gray) * saturation[index]).clamp(0, 255)
            hsv = _rgb_to_hsv(jittered / 255)
            hsv = torch.cat([(hsv[:, :1] + shift[index].view(-1, 1, 1, 1)) % 1.0,
                             hsv[:, 1:]], 1)
            return _hsv_to_rgb(hsv) * 255

        return _apply_to(images, self._draw(num, self.jitter_prob, images, generator), jitter)

    def _blur(self, images: torch.Tensor, generator) -> torch.Tensor:
        num, channels, height, width = images.shape
        low, high = self.blur_sigma
        sigmas = low + (high - low) * torch.rand(num, device=images.device,
                                                 generator=generator)
        radius = min(int(3 * high + 0.5), (min(height, width) - 1) // 2)

        def blur(subset: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
            groups = len(subset) * channels
            kernels = _gaussian_kernels(sigmas[index].to(images.dtype), radius)
            kernels = kernels.repeat_interleave(channels, 0)  # (m*C, K)
            flat = subset.reshape(1, groups, height, width)
            flat = F.pad(flat, (radius, radius, radius, radius), mode='reflect')
            flat = F.conv2d(flat, kernels.view(groups, 1, 1, -1), groups=groups)
            flat = F.conv2d(flat, kernels.view(groups, 1, -1, 1), groups=groups)
            return flat.view_as(subset)

        return _apply_to(images, self._draw(num, self.blur_prob, images, generator), blur)

    def forward(self, images: torch.Tensor,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Augment (M, 3, H, W) RGB images in [0, 255]; returns the same shape."""
        num = len(images)
        images = self._color_jitter(images, generator)
        images = _apply_to(images, self._draw(num, self.gray_prob, images, generator),
                           lambda subset, _: _grayscale(subset).expand_as(subset))
        images = self._blur(images, generator)
        threshold = self.solarize_threshold
        images = _apply_to(
            images, self._draw(num, self.solarize_prob, images, generator),
            lambda subset, _: torch.where(subset >= threshold, 255 - subset, subset))
        return _apply_to(images, self._draw(num, self.flip_prob, images, generator),
                         lambda subset, _: subset.flip(-1))
