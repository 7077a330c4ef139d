"""The offline demo data sets load through the real OpenMMLab dataset classes."""
import hashlib
import json
import os.path as osp
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from mmssl_ext.datasets.demo_data import build_demo_data


def _digest(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob('*')) if p.is_file()}


def test_deterministic_and_reused(tmp_path, demo_data_root):
    build_demo_data(str(tmp_path), num_unlabeled=30)
    assert _digest(tmp_path) == _digest(demo_data_root)
    marker = tmp_path / '.complete.json'
    stamp = marker.stat().st_mtime_ns
    build_demo_data(str(tmp_path), num_unlabeled=30)  # complete: reused, not rewritten
    assert marker.stat().st_mtime_ns == stamp


def test_half_written_tree_is_rebuilt(tmp_path, demo_data_root):
    (tmp_path / 'imagenet' / 'train').mkdir(parents=True)
    (tmp_path / 'imagenet' / 'train' / 'stale.jpg').write_bytes(b'broken')
    build_demo_data(str(tmp_path), num_unlabeled=30)
    assert not (tmp_path / 'imagenet' / 'train' / 'stale.jpg').exists()
    assert _digest(tmp_path) == _digest(demo_data_root)


def test_bad_parameter_is_named(tmp_path):
    with pytest.raises(ValueError, match='num_unlabeled'):
        build_demo_data(str(tmp_path), num_unlabeled=3)


def test_unlabeled_folder_loads_with_mmpretrain(demo_data_root):
    import cv2
    from mmpretrain.datasets import CustomDataset, ImageNet

    root = str(demo_data_root / 'imagenet')
    unlabeled = CustomDataset(data_root=root, data_prefix='train', with_label=False,
                              pipeline=[dict(type='LoadImageFromFile')])
    assert len(unlabeled) == 30
    sample = unlabeled[0]
    assert sample['img'].ndim == 3 and min(sample['img'].shape[:2]) >= 256
    for info in unlabeled.data_list:
        image = cv2.imread(info['img_path'])
        assert image is not None and min(image.shape[:2]) >= 256, info['img_path']

    labelled = ImageNet(data_root=root, ann_file='meta/train.txt', data_prefix='train',
                        classes=[f'c{i}' for i in range(10)])
    assert len(labelled) == 30
    assert set(labelled.get_gt_labels().tolist()) == set(range(10))


def test_coco_masks_are_real_and_consistent(demo_data_root):
    root = demo_data_root / 'coco'
    for split in ('train2017', 'val2017'):
        coco = COCO(str(root / 'annotations' / f'instances_{split}.json'))
        assert len(coco.getAnnIds()) == 43  # 19 VOC instances + 24 coins
        assert len(coco.getCatIds()) == 80
        for ann in coco.loadAnns(coco.getAnnIds()):
            mask = coco.annToMask(ann)
            assert mask.sum() > 0
            assert abs(mask.sum() - ann['area']) <= 0.05 * ann['area'] + 5
            x, y, w, h = ann['bbox']
            ys, xs = np.nonzero(mask)
            assert xs.min() >= np.floor(x) - 1 and xs.max() <= np.ceil(x + w) + 1
            assert ys.min() >= np.floor(y) - 1 and ys.max() <= np.ceil(y + h) + 1
        names = {coco.loadCats(ann['category_id'])[0]['name']
                 for ann in coco.loadAnns(coco.getAnnIds())}
        assert names == {'person', 'chair', 'dining table', 'bottle', 'sports ball'}


def test_coco_loads_through_mmdet(demo_data_root):
    from mmdet.datasets import CocoDataset
    from mmdet.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    dataset = CocoDataset(
        data_root=str(demo_data_root / 'coco'),
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        pipeline=[dict(type='mmdet.LoadImageFromFile'),
                  dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True)])
    assert len(dataset) == 2
    total = 0
    for index in range(len(dataset)):
        sample = dataset[index]
        masks = sample['gt_masks'].to_ndarray()
        assert masks.shape[1:] == sample['img'].shape[:2]
        assert (masks.reshape(len(masks), -1).sum(1) > 0).all()
        total += len(masks)
    assert total == 43


def test_ade_loads_through_mmseg(demo_data_root):
    from mmseg.datasets import ADE20KDataset
    from mmseg.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    dataset = ADE20KDataset(
        data_root=str(demo_data_root / 'ade' / 'ADEChallengeData2016'),
        data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
        pipeline=[dict(type='mmseg.LoadImageFromFile'),
                  dict(type='mmseg.LoadAnnotations', reduce_zero_label=True)])
    assert len(dataset) == 2
    for index in range(len(dataset)):
        sample = dataset[index]
        labels = np.unique(sample['gt_seg_map'])
        assert sample['gt_seg_map'].shape == sample['img'].shape[:2]
        assert 255 in labels  # background ignored
        classes = labels[labels != 255]
        assert len(classes) >= 3 and classes.max() < 150
