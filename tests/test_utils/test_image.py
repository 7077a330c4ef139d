"""load_square_image: centre crop + resize, and a clear error for unreadable files."""
import cv2
import numpy as np
import pytest

from mmssl_ext.utils.image import load_square_image


def test_centre_crop_then_resize(tmp_path):
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, 20:60] = 255  # the centred 40 x 40 square is white, the sides black
    path = str(tmp_path / 'wide.png')
    cv2.imwrite(path, image)
    square = load_square_image(path, 16)
    assert square.shape == (16, 16, 3) and square.min() == 255
    assert load_square_image(path, (8, 12)).shape == (8, 12, 3)


def test_unreadable_file_is_named(tmp_path):
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'not an image')
    with pytest.raises(FileNotFoundError, match='broken.jpg'):
        load_square_image(str(broken), 8)
