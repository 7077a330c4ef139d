"""Shared base of our data preprocessors: RGB conversion and mean / std normalisation."""
from typing import Sequence

import torch
from mmengine.model import BaseDataPreprocessor


class RGBDataPreprocessor(BaseDataPreprocessor):
    """Holds ``mean`` / ``std`` (RGB) and the BGR -> RGB switch of the algorithms'
    preprocessors, which augment batches on the device between the two steps.

    Args:
        mean, std (Sequence[float]): per-channel normalisation of RGB values in
            [0, 255]. Defaults to ImageNet's.
        to_rgb (bool): inputs are BGR (cv2 decoding). Defaults to True.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 to_rgb: bool = True) -> None:
        super().__init__()
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f'mean and std must have 3 values, std > 0; got {mean}, {std}')
        self.register_buffer('mean', torch.tensor(mean).view(3, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(3, 1, 1), False)
        self.to_rgb = to_rgb

    def rgb(self, images: torch.Tensor) -> torch.Tensor:
        """(..., 3, H, W) decoded images -> float RGB in [0, 255]."""
        images = images.float()
        return images.flip(-3) if self.to_rgb else images

    def standardize(self, images: torch.Tensor) -> torch.Tensor:
        """(..., 3, H, W) float RGB -> ``(images - mean) / std``."""
        return (images - self.mean) / self.std

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """(..., 3, H, W) decoded images -> normalised float RGB."""
        return self.standardize(self.rgb(images))
