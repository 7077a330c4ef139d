"""CheckedLoadImageFromFile: unreadable and degenerate images are errors naming the file."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile

from mmssl_ext.datasets.transforms import CheckedLoadImageFromFile

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def _image(path, height, width):
    pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    cv2.imwrite(str(path), pixels)
    return pixels


def test_a_readable_image_loads_as_with_mmcv(tmp_path):
    pixels = _image(tmp_path / 'ok.png', 5, 7)
    ours = CheckedLoadImageFromFile()(dict(img_path=str(tmp_path / 'ok.png')))
    theirs = LoadImageFromFile()(dict(img_path=str(tmp_path / 'ok.png')))
    np.testing.assert_array_equal(ours['img'], pixels)
    np.testing.assert_array_equal(ours['img'], theirs['img'])
    assert ours['img_shape'] == (5, 7)


def test_zero_byte_image_names_the_file(tmp_path):
    (tmp_path / 'empty.jpg').write_bytes(b'')
    with pytest.raises(OSError, match=r'cannot read image .*empty\.jpg'):
        CheckedLoadImageFromFile()(dict(img_path=str(tmp_path / 'empty.jpg')))
    skipped = CheckedLoadImageFromFile(ignore_empty=True)(
        dict(img_path=str(tmp_path / 'empty.jpg')))
    assert skipped is None


def test_one_pixel_image_is_refused(tmp_path):
    _image(tmp_path / 'dot.png', 1, 1)
    with pytest.raises(ValueError, match=r'dot\.png is 1x1 px, smaller than min_size=2'):
        CheckedLoadImageFromFile()(dict(img_path=str(tmp_path / 'dot.png')))
    with pytest.raises(ValueError, match='min_size'):
        CheckedLoadImageFromFile(min_size=0)


@pytest.mark.slow
def test_training_on_a_folder_with_an_empty_file_names_it(tmp_path, demo_data_root):
    folder = tmp_path / 'train' / 'photos'
    shutil.copytree(demo_data_root / 'imagenet' / 'train' / 'chelsea', folder)
    (folder / 'zz_empty.jpg').write_bytes(b'')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'),
         osp.join(ROOT, 'configs', 'cim', 'vit-t_demo.py'), '--work-dir', str(tmp_path / 'w'),
         '--cfg-options', f'train_dataloader.dataset.data_root={tmp_path}',
         'train_dataloader.num_workers=0', 'train_dataloader.batch_size=2',
         'train_cfg.max_epochs=1'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode != 0
    assert f'cannot read image {folder / "zz_empty.jpg"}' in result.stderr
