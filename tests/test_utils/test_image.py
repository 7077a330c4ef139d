"""load_square_image: centre crop + resize, a clear error for unreadable files;
load_square_images: the same, stacked as a batch; list_images: files and folders."""
import cv2
import numpy as np
import pytest
import torch

from mmssl_ext.utils.image import list_images, load_square_image, load_square_images


def test_centre_crop_then_resize(tmp_path):
    image = np.zeros((40, 80, 3), np.uint8)
    image[:, 20:60] = 255  # the centred 40 x 40 square is white, the sides black
    path = str(tmp_path / 'wide.png')
    cv2.imwrite(path, image)
    square = load_square_image(path, 16)
    assert square.shape == (16, 16, 3) and square.min() == 255
    assert load_square_image(path, (8, 12)).shape == (8, 12, 3)


def test_batch_is_channels_first_bgr(tmp_path):
    paths = []
    for i, colour in enumerate(((255, 0, 0), (0, 0, 255))):  # BGR: blue, red
        image = np.zeros((30, 20, 3), np.uint8)
        image[:] = colour
        paths.append(str(tmp_path / f'{i}.png'))
        cv2.imwrite(paths[-1], image)
    batch = load_square_images(paths, 8)
    assert batch.shape == (2, 3, 8, 8) and batch.dtype == torch.uint8
    assert batch[0, 0].eq(255).all() and batch[0, 2].eq(0).all()  # blue in channel 0
    assert batch[1, 2].eq(255).all() and batch[1, 0].eq(0).all()
    np.testing.assert_array_equal(batch[1].permute(1, 2, 0).numpy(),
                                  load_square_image(paths[1], 8))


def test_unreadable_file_is_named(tmp_path):
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'not an image')
    with pytest.raises(FileNotFoundError, match='broken.jpg'):
        load_square_image(str(broken), 8)


def test_list_images_takes_files_and_folders(tmp_path):
    for name in ('b/2.png', 'a/1.JPG', 'a/notes.txt'):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b'x')
    single = str(tmp_path / 'b' / '2.png')
    assert list_images([single, str(tmp_path)]) == [
        single, str(tmp_path / 'a' / '1.JPG'), str(tmp_path / 'b' / '2.png')]
    with pytest.raises(FileNotFoundError, match='missing'):
        list_images([str(tmp_path / 'missing')])
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no images under'):
        list_images([str(tmp_path / 'empty')])
