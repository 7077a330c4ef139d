"""ReSim's two views of one image with their crop geometry and a shared flip."""
from typing import Sequence

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import RandomResizedCrop

from mmssl_ext.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ReSimViews(BaseTransform):
    """Crop a query and a key view from one image, keeping where they came from.

    Each view is an independent crop drawn by mmpretrain's ``RandomResizedCrop`` (area
    fraction in ``scale``, log-uniform aspect ratio in ``ratio``, 10 attempts, then a
    centre crop) resized to ``size``; then both views are mirrored or neither
    (probability ``flip_prob``), as ReSim requires. The colour augmentations run later,
    batched, in :class:`ReSimDataPreprocessor`. mmpretrain's ``MultiView`` cannot be used:
    it drops each view's crop box.

    Required keys: ``img`` (H, W, 3).
    Modified / added keys: ``img`` (list of 2 (size, size, 3) views, query first),
    ``img_shape``, ``crop_boxes`` ((2, 4) float32 ``(x1, y1, x2, y2)`` of the query and
    key crops in original-image pixels, before the flip), ``flip`` (bool, shared).
    Pack with ``PackInputs(algorithm_keys=['crop_boxes'])`` (``flip`` is a default meta key).

    Args:
        size (int): output side of both views. Defaults to 224.
        scale (Sequence[float]): range of the crop area fraction. Defaults to (0.2, 1.0).
        ratio (Sequence[float]): range of the crop aspect ratio (w / h).
            Defaults to (3 / 4, 4 / 3).
        flip_prob (float): probability of the shared horizontal flip. Defaults to 0.5.
        interpolation (str): resize interpolation. Defaults to 'bilinear'.
        backend (str): ``'pillow'`` (antialiased, as torchvision) or ``'cv2'``.
            Defaults to 'pillow'.
    """

    def __init__(self,
                 size: int = 224,
                 scale: Sequence[float] = (0.2, 1.0),
                 ratio: Sequence[float] = (3 / 4, 4 / 3),
                 flip_prob: float = 0.5,
                 interpolation: str = 'bilinear',
                 backend: str = 'pillow') -> None:
        super().__init__()
        if size <= 0:
            raise ValueError(f'size must be > 0, got {size}')
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ValueError(f'scale must satisfy 0 < low <= high <= 1, got {scale}')
        if not 0 < ratio[0] <= ratio[1]:
            raise ValueError(f'ratio must satisfy 0 < low <= high, got {ratio}')
        if not 0 <= flip_prob <= 1:
            raise ValueError(f'flip_prob must be in [0, 1], got {flip_prob}')
        self.size, self.scale, self.ratio = size, tuple(scale), tuple(ratio)
        self.flip_prob, self.interpolation, self.backend = flip_prob, interpolation, backend
        self.crop = RandomResizedCrop(size, crop_ratio_range=self.scale,
                                      aspect_ratio_range=self.ratio)

    def transform(self, results: dict) -> dict:
        image = results['img']
        flip = bool(np.random.rand() < self.flip_prob)
        boxes, views = [], []
        for _ in range(2):
            top, left, height, width = self.crop.rand_crop_params(image)
            x1, y1, x2, y2 = left, top, left + width, top + height
            view = mmcv.imresize(image[y1:y2, x1:x2], (self.size, self.size),
                                 interpolation=self.interpolation, backend=self.backend)
            views.append(mmcv.imflip(view) if flip else view)
            boxes.append((x1, y1, x2, y2))
        results['img'] = views
        results['img_shape'] = (self.size, self.size)
        results['crop_boxes'] = np.array(boxes, dtype=np.float32)
        results['flip'] = flip
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(size={self.size}, scale={self.scale}, '
                f'ratio={self.ratio}, flip_prob={self.flip_prob}, '
                f'interpolation={self.interpolation}, backend={self.backend})')
