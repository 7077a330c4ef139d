"""Reading one image for the visualisers."""
from typing import Sequence, Union

import cv2
import numpy as np


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
