"""Reading images for the visualisers."""
import os.path as osp
from pathlib import Path
from typing import List, Sequence, Union

import cv2
import numpy as np
import torch


def load_square_image(path: str, size: Union[int, Sequence[int]]) -> np.ndarray:
    """Read an image (BGR), centre-crop it square and resize it (bicubic).

    Args:
        path (str): image file.
        size (int | Sequence[int]): output side, or (height, width).

    Returns:
        ndarray: (height, width, 3) uint8 BGR image.

    Raises:
        FileNotFoundError: naming ``path`` when it cannot be read as an image.
    """
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f'cannot read image {path}')
    height, width = (size, size) if isinstance(size, int) else size
    side = min(image.shape[:2])
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    return cv2.resize(image[top:top + side, left:left + side], (width, height),
                      interpolation=cv2.INTER_CUBIC)


def load_square_images(paths: Sequence[str], size: Union[int, Sequence[int]]) -> torch.Tensor:
    """:func:`load_square_image` of each path, stacked: (B, 3, height, width) uint8 BGR."""
    return torch.stack([torch.from_numpy(load_square_image(path, size)).permute(2, 0, 1)
                        for path in paths])


IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')


def list_images(paths: Sequence[str]) -> List[str]:
    """Image files named by ``paths``: files as given, folders searched recursively
    (sorted, suffixes in ``IMAGE_SUFFIXES``).

    Raises:
        FileNotFoundError: naming a path that does not exist or a folder without images.
    """
    files = []
    for path in paths:
        if osp.isfile(path):
            files.append(path)
            continue
        if not osp.isdir(path):
            raise FileNotFoundError(f'no such image or folder: {path}')
        found = sorted(str(p) for p in Path(path).rglob('*')
                       if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise FileNotFoundError(f'no images under {path}')
        files.extend(found)
    return files
