"""Fashion-MNIST converter: IDX parsing, split layout and pixel / label round trip,
through tools/dataset_converters/fashion_mnist.py and mmpretrain's dataset classes."""
import gzip
import os.path as osp
import struct
import subprocess
import sys

import cv2
import numpy as np
import pytest

from mmssl_ext.datasets.fashion_mnist import (balanced_subset, build_fashion_mnist_folder,
                                              class_folder, read_idx)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'dataset_converters', 'fashion_mnist.py')


def _write_idx(path, array, compress):
    """The IDX format written by hand: 0, 0, type 0x08 (uint8), ndim, big-endian dims."""
    data = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f'>{array.ndim}I', *array.shape)
    data += array.astype(np.uint8).tobytes()
    with (gzip.open if compress else open)(str(path), 'wb') as f:
        f.write(data)


@pytest.fixture
def source(tmp_path):
    """A tiny release: 40 train / 20 test random 28 x 28 images, 10 classes each."""
    rng = np.random.default_rng(1)
    folder = tmp_path / 'src'
    folder.mkdir()
    arrays = {}
    for split, num in (('train', 40), ('t10k', 20)):
        images = rng.integers(0, 256, (num, 28, 28), dtype=np.uint8)
        labels = rng.permutation(np.arange(num) % 10).astype(np.uint8)
        _write_idx(folder / f'{split}-images-idx3-ubyte.gz', images, True)
        _write_idx(folder / f'{split}-labels-idx1-ubyte', labels, False)
        arrays[split] = (images, labels)
    return folder, arrays


def _read_ann(path):
    with open(path) as f:
        return [line.split() for line in f.read().splitlines()]


def test_read_idx_round_trip_and_errors(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / 'a-idx3-ubyte.gz', array, True)
    out = read_idx(str(tmp_path / 'a-idx3-ubyte.gz'))
    assert out.shape == (2, 3, 4) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, array)
    (tmp_path / 'short').write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match='short.*needs 13'):
        read_idx(str(tmp_path / 'short'))
    (tmp_path / 'bad').write_bytes(b'\x89PNG0000')
    with pytest.raises(ValueError, match='bad: not an IDX file'):
        read_idx(str(tmp_path / 'bad'))


def test_balanced_subset_is_even_and_sorted():
    labels = np.repeat(np.arange(4), [5, 6, 7, 8])
    indices = balanced_subset(labels, 10, np.random.default_rng(0))
    assert np.all(np.diff(indices) > 0)
    assert np.bincount(labels[indices]).tolist() == [3, 3, 2, 2]
    assert len(balanced_subset(labels, None, np.random.default_rng(0))) == len(labels)


def test_pixels_and_labels_round_trip(tmp_path, source):
    folder, arrays = source
    out = tmp_path / 'out'
    counts = build_fashion_mnist_folder(str(out), str(folder), num_pretrain=15, num_bank=20,
                                        image_size=28)
    assert counts == dict(pretrain=15, train=20, val=20)
    for split, key in (('train', 'train'), ('val', 't10k')):
        images, labels = arrays[key]
        lines = _read_ann(out / 'meta' / f'{split}.txt')
        found = [int(label) for _, label in lines]
        assert len(lines) == counts[split]
        assert np.bincount(found, minlength=10).tolist() == [counts[split] // 10] * 10
        for name, label in lines:
            index = int(osp.splitext(osp.basename(name))[0])
            assert int(label) == labels[index]
            assert osp.dirname(name) == class_folder(int(label))
            image = cv2.imread(str(out / split / name), cv2.IMREAD_UNCHANGED)
            assert image.shape == (28, 28, 3)
            for channel in range(3):
                np.testing.assert_array_equal(image[..., channel], images[index])
    names = [line[0] for line in _read_ann(out / 'meta' / 'pretrain.txt')]
    assert len(set(names)) == 15 and all('/' not in name for name in names)
    for name in names:
        image = cv2.imread(str(out / 'pretrain' / name), cv2.IMREAD_GRAYSCALE)
        np.testing.assert_array_equal(image, arrays['train'][0][int(name[:5])])
    assert (out / 'meta' / 'classes.txt').read_text().splitlines()[0] == 'T-shirt/top'


def test_upscaled_rgb_and_loaded_by_mmpretrain(tmp_path, source):
    from mmpretrain.datasets import CustomDataset, ImageNet

    folder, arrays = source
    out = tmp_path / 'out'
    build_fashion_mnist_folder(str(out), str(folder), image_size=32)
    val = ImageNet(data_root=str(out), split='val', pipeline=[dict(type='LoadImageFromFile')])
    images, labels = arrays['t10k']
    assert len(val) == 20
    for sample in (val[i] for i in range(len(val))):
        index = int(osp.basename(sample['img_path'])[:5])
        assert sample['gt_label'] == labels[index]
        assert sample['img'].shape == (32, 32, 3)
        resized = cv2.resize(images[index], (32, 32), interpolation=cv2.INTER_CUBIC)
        np.testing.assert_array_equal(sample['img'][..., 1], resized)
    unlabeled = CustomDataset(data_root=str(out), data_prefix='pretrain', with_label=False,
                              pipeline=[])
    assert len(unlabeled) == 40


def test_reuses_a_complete_tree_and_rebuilds_on_change(tmp_path, source):
    folder, _ = source
    out = tmp_path / 'out'
    build_fashion_mnist_folder(str(out), str(folder), num_pretrain=10)
    marker = out / '.complete.json'
    stamp = marker.stat().st_mtime_ns
    build_fashion_mnist_folder(str(out), str(folder), num_pretrain=10)
    assert marker.stat().st_mtime_ns == stamp
    counts = build_fashion_mnist_folder(str(out), str(folder), num_pretrain=5)
    assert counts['pretrain'] == 5 and len(list((out / 'pretrain').iterdir())) == 5


def test_bad_parameters_are_named(tmp_path, source):
    folder, _ = source
    with pytest.raises(ValueError, match='num_bank'):
        build_fashion_mnist_folder(str(tmp_path / 'o'), str(folder), num_bank=0)
    with pytest.raises(ValueError, match='image_size'):
        build_fashion_mnist_folder(str(tmp_path / 'o'), str(folder), image_size=4)


@pytest.mark.slow
def test_tool_converts_and_explains_missing_files(tmp_path, source):
    folder, _ = source
    out = tmp_path / 'out'
    result = subprocess.run(
        [sys.executable, TOOL, '--source', str(folder), '--out', str(out),
         '--num-query', '10', '--image-size', '64'],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert 'val           10 images' in result.stdout
    assert cv2.imread(str(next((out / 'train').rglob('*.png')))).shape == (64, 64, 3)
    result = subprocess.run([sys.executable, TOOL, '--source', str(tmp_path / 'none'),
                             '--out', str(tmp_path / 'x')],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert 'train-images-idx3-ubyte[.gz] not found' in result.stderr
    assert 'apt-get install dataset-fashion-mnist' in result.stderr
