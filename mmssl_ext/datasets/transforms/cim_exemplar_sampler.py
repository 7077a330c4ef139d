"""CIM's pretext-task geometry: context, rotated exemplars and their exact maps."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F

from mmssl_ext.structures import crop_rotated_regions, rasterize_regions, sample_rotated_regions


def _pair(value, name: str) -> Tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or any(not isinstance(v, int) or v <= 0 for v in pair):
        raise ValueError(f'{name} must be a positive int or (h, w), got {value}')
    return pair


def _range(value: Sequence[float], name: str, low: float, high: float) -> Tuple[float, float]:
    if len(value) != 2 or not low <= value[0] < value[1] <= high:
        raise ValueError(f'{name} must be (min, max) with {low} <= min < max <= {high}, '
                         f'got {tuple(value)}')
    return float(value[0]), float(value[1])


class CIMExemplarSampler:
    """Turns base images into CIM contexts, exemplars and correlation maps (batched).

    The context is the base image resized to ``context_size`` (bicubic, antialiased).
    Each of the ``num_exemplars`` exemplars is the reference's region
    (:func:`sample_rotated_regions`): an axis-aligned box of the BASE image (area
    ``scale_range`` of the image, aspect ratio log-uniform in ``ratio_range``, drawn as
    torchvision's ``RandomResizedCrop``), seen in the image rotated by an angle uniform
    in ``rotation_range`` degrees, and cropped as the bounding box of the rotated box,
    trimmed where it leaves the image. The exemplar region therefore covers more than
    the drawn box (map area / context area 0.32 on average for the defaults). It is
    resampled upright at its own pixel size with bilinear ``grid_sample``, then resized
    to ``exemplar_size`` with antialiased bicubic interpolation (PIL's filter, as the
    reference's ``resized_crop``; :func:`crop_rotated_regions`). Its map is the
    exact raster of the same rectangle on the context grid (:func:`rasterize_regions`),
    not the reference's resized rotated mask. Geometry runs in fp32 whatever the
    autocast state.

    Defaults follow the reference (ViT-B 300e): 224 px base, 160 px context, 6
    exemplars of 64 px, scale (0.05, 0.48), ratio (1/3, 3), rotation (-45, 45).
    """

    def __init__(self,
                 base_size=224,
                 context_size=160,
                 exemplar_size=64,
                 num_exemplars: int = 6,
                 scale_range: Sequence[float] = (0.05, 0.48),
                 ratio_range: Sequence[float] = (1 / 3, 3.),
                 rotation_range: Sequence[float] = (-45., 45.),
                 num_candidates: int = 10) -> None:
        self.base_size = _pair(base_size, 'base_size')
        self.context_size = _pair(context_size, 'context_size')
        self.exemplar_size = _pair(exemplar_size, 'exemplar_size')
        if any(c > b for c, b in zip(self.context_size, self.base_size)):
            raise ValueError(f'context_size {self.context_size} must not exceed '
                             f'base_size {self.base_size}')
        if any(e > c for e, c in zip(self.exemplar_size, self.context_size)):
            raise ValueError(f'exemplar_size {self.exemplar_size} must not exceed '
                             f'context_size {self.context_size}')
        if not isinstance(num_exemplars, int) or num_exemplars < 1:
            raise ValueError(f'num_exemplars must be a positive int, got {num_exemplars}')
        if not isinstance(num_candidates, int) or num_candidates < 1:
            raise ValueError(f'num_candidates must be a positive int, got {num_candidates}')
        self.num_exemplars = num_exemplars
        self.num_candidates = num_candidates
        self.scale_range = _range(scale_range, 'scale_range', 0., 1.)
        if self.scale_range[0] <= 0:
            raise ValueError(f'scale_range must be > 0, got {tuple(scale_range)}')
        self.ratio_range = _range(ratio_range, 'ratio_range', 1e-6, 1e6)
        self.rotation_range = _range(rotation_range, 'rotation_range', -180., 180.)

    def __call__(self, images: torch.Tensor
                 ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sample the pretext task for a batch of base images.

        Args:
            images (Tensor): (B, 3, H, W) float base images, (H, W) = ``base_size``.

        Returns:
            tuple[Tensor]: contexts (B, 3, Hc, Wc), exemplars (B, N, 3, He, We), both
            in the input's value range, and bool correlation maps (B, N, Hc, Wc).
        """
        if tuple(images.shape[-2:]) != self.base_size or images.dim() != 4:
            raise ValueError(f'expected (B, 3, {self.base_size[0]}, {self.base_size[1]}) '
                             f'base images, got {tuple(images.shape)}')
        with torch.autocast(images.device.type, enabled=False):
            images = images.float()
            low, high = images.amin(), images.amax()  # bicubic overshoot clamped, as PIL
            contexts = F.interpolate(images, size=self.context_size, mode='bicubic',
                                     align_corners=False, antialias=True).clamp(low, high)
            regions = sample_rotated_regions(
                len(images), self.num_exemplars, self.base_size, self.scale_range,
                self.ratio_range, self.rotation_range, self.num_candidates,
                device=images.device)
            exemplars = crop_rotated_regions(images, regions, self.exemplar_size)
            maps = rasterize_regions(regions, self.base_size, self.context_size)
        return contexts, exemplars, maps
