"""Fashion-MNIST (IDX files, e.g. Debian's ``dataset-fashion-mnist``) -> image folders.

``build_fashion_mnist_folder(out_dir, source_dir)`` reads the four IDX files of the
release (``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``) and writes three splits
as PNG images (grayscale replicated to 3 channels, resized to ``image_size``):

* ``pretrain/<index>.png``: an unlabelled pre-training split drawn from the training
  set (no class folders, so no label leaks into pre-training), listed in
  ``meta/pretrain.txt`` (one file name a line: mmpretrain's unlabelled format);
* ``train/<c>_<class>/<index>.png``: the labelled k-NN bank / linear-probe training
  split, drawn from the training set, class-balanced;
* ``val/<c>_<class>/<index>.png``: the held-out query split, drawn from the test set,
  class-balanced;

with ``meta/{train,val}.txt`` (``<c>_<class>/<index>.png <label>`` lines; mmpretrain's
``ImageNet(split=...)`` / ``CustomDataset(ann_file=...)`` format) and
``meta/classes.txt``. ``<index>`` is the image's index in its IDX file. A marker file
written last records the parameters: a complete tree is reused, a half-written one
rebuilt.
"""
import gzip
import json
import os
import os.path as osp
import shutil
from typing import Dict, Optional

import cv2
import numpy as np

#: Where Debian's / Ubuntu's ``dataset-fashion-mnist`` package installs the files.
DEBIAN_SOURCE_DIR = '/usr/share/datasets/fashion-mnist'
CLASSES = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',
           'Sneaker', 'Bag', 'Ankle boot')
FILES = dict(train_images='train-images-idx3-ubyte', train_labels='train-labels-idx1-ubyte',
             test_images='t10k-images-idx3-ubyte', test_labels='t10k-labels-idx1-ubyte')
#: IDX type byte -> big-endian numpy dtype.
IDX_DTYPES = {0x08: '>u1', 0x09: '>i1', 0x0B: '>i2', 0x0C: '>i4', 0x0D: '>f4', 0x0E: '>f8'}
VERSION = 1


def read_idx(path: str) -> np.ndarray:
    """An IDX file (optionally gzipped) as an array of its stored shape and type.

    IDX: two zero bytes, a type byte (:data:`IDX_DTYPES`), the number of dimensions,
    one big-endian uint32 per dimension, then the values in C order, big-endian.

    Raises:
        ValueError: naming the file, when the header or the length is wrong.
    """
    opener = gzip.open if path.endswith('.gz') else open
    try:
        with opener(path, 'rb') as f:
            data = f.read()
    except (OSError, EOFError) as error:
        raise ValueError(f'{path}: cannot read ({error})') from error
    if len(data) < 4 or data[:2] != b'\0\0' or data[2] not in IDX_DTYPES:
        raise ValueError(f'{path}: not an IDX file (header {data[:4].hex()})')
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(n) for n in np.frombuffer(data[4:header], dtype='>u4'))
    dtype = np.dtype(IDX_DTYPES[data[2]])
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f'{path}: {len(data)} bytes, the header {shape} of '
                         f'{dtype.str} needs {expected}')
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(
        dtype.newbyteorder('='))


def find_idx(source_dir: str, name: str) -> str:
    """Path of ``name`` or ``name.gz`` in ``source_dir``; a clear error when absent."""
    for candidate in (name, f'{name}.gz'):
        path = osp.join(source_dir, candidate)
        if osp.isfile(path):
            return path
    raise FileNotFoundError(
        f'{osp.join(source_dir, name)}[.gz] not found. Install the Fashion-MNIST files with '
        f'`apt-get install dataset-fashion-mnist` (Debian / Ubuntu; they go to '
        f'{DEBIAN_SOURCE_DIR}), or put the four IDX files of the release '
        f'({", ".join(FILES.values())}, gzipped or not) in a folder and pass it as the '
        'source directory.')


def load_split(source_dir: str, split: str) -> Dict[str, np.ndarray]:
    """``{'images': (N, H, W) uint8, 'labels': (N,) int64}`` of ``'train'`` / ``'test'``."""
    images = read_idx(find_idx(source_dir, FILES[f'{split}_images']))
    labels = read_idx(find_idx(source_dir, FILES[f'{split}_labels']))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f'{source_dir}: {split} images {images.shape} and labels '
                         f'{labels.shape} do not match')
    if images.dtype != np.uint8 or labels.min() < 0 or labels.max() >= len(CLASSES):
        raise ValueError(f'{source_dir}: {split} needs uint8 images and labels in '
                         f'[0, {len(CLASSES)})')
    return dict(images=images, labels=labels.astype(np.int64))


def balanced_subset(labels: np.ndarray, num: Optional[int],
                    rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``num`` samples (None: all), as even over the classes as
    the class sizes allow (the remainder goes to the lowest classes)."""
    if num is None or num >= len(labels):
        return np.arange(len(labels))
    classes = np.unique(labels)
    quota = np.full(len(classes), num // len(classes))
    quota[:num % len(classes)] += 1
    chosen = [rng.permutation(np.flatnonzero(labels == c))[:q]
              for c, q in zip(classes, quota)]
    indices = np.sort(np.concatenate(chosen))
    if len(indices) < num:
        raise ValueError(f'cannot draw {num} class-balanced samples: a class is too small')
    return indices


def class_folder(label: int) -> str:
    """``'<label>_<class name>'``: folder names sort in label order."""
    slug = CLASSES[label].lower().replace('/', '_').replace(' ', '_').replace('-', '')
    return f'{label}_{slug}'


def to_rgb_image(image: np.ndarray, size: int) -> np.ndarray:
    """(H, W) uint8 -> (size, size, 3) uint8 (bicubic, grayscale replicated)."""
    if image.shape != (size, size):
        interpolation = cv2.INTER_CUBIC if size > image.shape[0] else cv2.INTER_AREA
        image = cv2.resize(image, (size, size), interpolation=interpolation)
    return np.repeat(image[..., None], 3, axis=2)


def _write_png(path: str, image: np.ndarray) -> None:
    if not cv2.imwrite(path, image):
        raise RuntimeError(f'cannot write {path}')


def _write_split(root: str, split: str, images: np.ndarray, labels: Optional[np.ndarray],
                 indices: np.ndarray, size: int) -> int:
    lines = []
    for index in indices:
        if labels is None:
            name = f'{index:05d}.png'
            lines.append(name)
        else:
            label = int(labels[index])
            name = f'{class_folder(label)}/{index:05d}.png'
            lines.append(f'{name} {label}')
        path = osp.join(root, split, name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        _write_png(path, to_rgb_image(images[index], size))
    with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return len(lines)


def build_fashion_mnist_folder(out_dir: str,
                               source_dir: str = DEBIAN_SOURCE_DIR,
                               num_pretrain: Optional[int] = None,
                               num_bank: Optional[int] = None,
                               num_query: Optional[int] = None,
                               image_size: int = 32,
                               seed: int = 0) -> Dict[str, int]:
    """Write the ``pretrain`` / ``train`` / ``val`` splits under ``out_dir``.

    Args:
        out_dir (str): output root (reused when complete with the same parameters).
        source_dir (str): folder of the four IDX files. Defaults to Debian's.
        num_pretrain (int, optional): unlabelled images drawn at random from the
            training set. None: all 60,000.
        num_bank (int, optional): labelled k-NN bank images (training set,
            class-balanced). None: all.
        num_query (int, optional): held-out query images (test set, class-balanced).
            None: all 10,000.
        image_size (int): side of the written images (28: unchanged). Defaults to 32.
        seed (int): seed of the subsets. Defaults to 0.

    Returns:
        dict[str, int]: number of images per split.
    """
    for name, value in (('num_pretrain', num_pretrain), ('num_bank', num_bank),
                        ('num_query', num_query)):
        if value is not None and value < 1:
            raise ValueError(f'{name} must be >= 1 or None, got {value}')
    if image_size < 8:
        raise ValueError(f'image_size must be >= 8, got {image_size}')
    params = dict(version=VERSION, num_pretrain=num_pretrain, num_bank=num_bank,
                  num_query=num_query, image_size=image_size, seed=seed)
    marker = osp.join(out_dir, '.complete.json')
    if osp.exists(marker):
        with open(marker) as f:
            record = json.load(f)
        if record['params'] == params:
            return record['counts']
    train, test = load_split(source_dir, 'train'), load_split(source_dir, 'test')
    for sub in ('pretrain', 'train', 'val', 'meta', '.complete.json'):
        path = osp.join(out_dir, sub)
        if osp.isdir(path):
            shutil.rmtree(path)
        elif osp.exists(path):
            os.remove(path)
    os.makedirs(osp.join(out_dir, 'meta'))
    rng = np.random.default_rng(seed)
    pretrain = np.sort(rng.permutation(len(train['labels']))[:num_pretrain])
    counts = dict(
        pretrain=_write_split(out_dir, 'pretrain', train['images'], None, pretrain,
                              image_size),
        train=_write_split(out_dir, 'train', train['images'], train['labels'],
                           balanced_subset(train['labels'], num_bank, rng), image_size),
        val=_write_split(out_dir, 'val', test['images'], test['labels'],
                         balanced_subset(test['labels'], num_query, rng), image_size))
    with open(osp.join(out_dir, 'meta', 'classes.txt'), 'w') as f:
        f.write('\n'.join(CLASSES) + '\n')
    with open(marker, 'w') as f:
        json.dump(dict(params=params, counts=counts), f)
    return counts
