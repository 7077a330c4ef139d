"""ReSim's data preprocessor: MoCo v2 colour augmentation of both views, batched."""
from typing import Optional, Sequence

import torch

from mmssl_ext.registry import MODELS
from .rgb_data_preprocessor import RGBDataPreprocessor
from mmssl_ext.datasets.transforms import BatchPhotometricAugment

#: MoCo v2's colour pipeline; the flip is ReSimViews' shared flip, never per view.
MOCO_V2_AUGMENT = dict(jitter_prob=0.8, brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1,
                       gray_prob=0.2, blur_prob=0.5, blur_sigma=(0.1, 2.0),
                       solarize_prob=0.0, flip_prob=0.0)


@MODELS.register_module()
class ReSimDataPreprocessor(RGBDataPreprocessor):
    """Augment and normalise the (query, key) views made by ``ReSimViews``.

    Every view of the batch draws its own colour jitter, grayscale and blur
    (:class:`BatchPhotometricAugment`, in RGB) on the training device; geometry is left
    untouched (the crop boxes and shared flips stay in the data samples).

    Output: ``inputs = [query (B, 3, S, S), key (B, 3, S, S)]`` normalised float.

    Args:
        mean, std (Sequence[float]): per-channel normalisation of RGB values.
            Defaults to ImageNet's.
        to_rgb (bool): inputs are BGR (cv2 decoding). Defaults to True.
        augment (dict, optional): :class:`BatchPhotometricAugment` arguments; defaults to
            MoCo v2's pipeline (:data:`MOCO_V2_AUGMENT`). Its ``flip_prob`` must be 0.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 to_rgb: bool = True,
                 augment: Optional[dict] = None) -> None:
        super().__init__(mean, std, to_rgb)
        augment = dict(MOCO_V2_AUGMENT, **(augment or {}))
        if augment['flip_prob'] != 0:
            raise ValueError('augment.flip_prob must be 0: ReSim flips both views together '
                             '(ReSimViews.flip_prob)')
        self.augment = BatchPhotometricAugment(**augment)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        views = torch.stack([torch.stack(list(view)) if isinstance(view, (list, tuple))
                             else view for view in data['inputs']])  # (2, B, 3, S, S)
        with torch.autocast(views.device.type, enabled=False):
            images = self.rgb(views.flatten(0, 1))
            if training:
                images = self.augment(images)
            images = self.standardize(images)
        query, key = images.unflatten(0, views.shape[:2])
        return dict(inputs=[query, key], data_samples=data.get('data_samples'))
