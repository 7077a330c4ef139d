"""CIM's CPU data path: SampleCIMExemplars + PackCIMInputs."""
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from mmssl_ext.datasets.transforms import PackCIMInputs, SampleCIMExemplars

NO_AUG = dict(jitter_prob=0., gray_prob=0., blur_prob=0., solarize_prob=0., flip_prob=0.)


def _results(size=96, seed=0):
    rng = np.random.default_rng(seed)
    return dict(img=rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
                img_path='some/photo.jpg')


def test_outputs_shapes_and_exact_maps():
    torch.manual_seed(0)
    transform = SampleCIMExemplars(exemplar_augment=NO_AUG, base_size=96, context_size=64,
                                   exemplar_size=32, num_exemplars=5)
    results = transform(_results())
    assert results['img'].shape == (64, 64, 3) and results['img'].dtype == np.uint8
    assert results['exemplars'].shape == (5, 32, 32, 3)
    maps = results['correlation_maps']
    assert maps.shape == (5, 64, 64) and set(np.unique(maps)) <= {0, 1}
    area = maps.reshape(5, -1).mean(1)
    # box scale (0.05, 0.48), grown to its rotated bounding box (up to ~0.65) +- raster
    assert ((area > 0.03) & (area < 0.7)).all()


def test_constant_image_gives_constant_exemplars_without_fill():
    """No black fill: every exemplar pixel comes from inside the image."""
    torch.manual_seed(0)
    transform = SampleCIMExemplars(exemplar_augment=NO_AUG, base_size=64, context_size=48,
                                   exemplar_size=16, num_exemplars=6,
                                   scale_range=(0.4, 0.48), rotation_range=(-45., 45.))
    for _ in range(20):
        results = transform(dict(img=np.full((64, 64, 3), 200, np.uint8), img_path='x'))
        assert (results['exemplars'] == 200).all()


def _pipeline_transforms(node):
    """Every transform dict (one with a ``type``) in a (nested) config node."""
    if isinstance(node, dict):
        return ([node] if 'type' in node else []) + [
            t for value in node.values() for t in _pipeline_transforms(value)]
    if isinstance(node, (list, tuple)):
        return [t for value in node for t in _pipeline_transforms(value)]
    return []


def test_no_pipeline_calls_mmcv_hue_jitter(monkeypatch):
    """mmcv 2.1's ``adjust_hue`` overflows for negative factors under numpy >= 2 (see
    SampleCIMExemplars' docstring): nothing we ship may call it."""
    import glob
    import os.path as osp

    import mmcv
    from mmengine.config import Config

    def forbidden(*args, **kwargs):
        raise AssertionError('mmcv.adjust_hue was called')

    for module in (mmcv, mmcv.image, mmcv.image.photometric):
        monkeypatch.setattr(module, 'adjust_hue', forbidden)
    torch.manual_seed(0)  # the default exemplar augmentation jitters hue (0.1, p=0.8)
    transform = SampleCIMExemplars(base_size=96, context_size=64, exemplar_size=32)
    assert transform.exemplar_augment.hue == 0.1 and transform.exemplar_augment.jitter_prob > 0
    for seed in range(5):
        transform(_results(seed=seed))
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    configs = [path for algo in ('cim', 'cae', 'pqcl', 'resim')
               for path in glob.glob(osp.join(root, 'configs', algo, '*.py'))]
    assert len(configs) > 20
    for path in configs:  # mmpretrain's ColorJitter jitters hue with mmcv.adjust_hue
        transforms = _pipeline_transforms(
            Config.fromfile(path).train_dataloader.dataset.pipeline)
        types = [t['type'] for t in transforms]
        assert 'CheckedLoadImageFromFile' in types, (path, types)
        assert all(not t.get('hue') for t in transforms if t['type'] == 'ColorJitter'), path


def test_default_augmentation_changes_exemplars_only():
    torch.manual_seed(0)
    transform = SampleCIMExemplars(base_size=96, context_size=64, exemplar_size=32)
    plain = SampleCIMExemplars(exemplar_augment=NO_AUG, base_size=96, context_size=64,
                               exemplar_size=32)
    results = transform(_results())
    torch.manual_seed(0)
    reference = plain(_results())
    np.testing.assert_array_equal(results['img'], reference['img'])
    np.testing.assert_array_equal(results['correlation_maps'], reference['correlation_maps'])
    assert not np.array_equal(results['exemplars'], reference['exemplars'])


def test_pack_and_collate():
    transform = SampleCIMExemplars(exemplar_augment=NO_AUG, base_size=96, context_size=64,
                                   exemplar_size=32, num_exemplars=3)
    packed = [PackCIMInputs()(transform(_results(seed=s))) for s in range(2)]
    batch = default_collate(packed)
    contexts, exemplars = batch['inputs']
    maps = torch.stack([sample.correlation_maps for sample in batch['data_samples']])
    assert contexts.shape == (2, 3, 64, 64) and exemplars.shape == (2, 3, 3, 32, 32)
    assert maps.shape == (2, 3, 64, 64) and contexts.dtype == torch.uint8
    assert batch['data_samples'][0].img_path == 'some/photo.jpg'


@pytest.mark.parametrize('kwargs,name', [
    (dict(exemplar_size=200), 'exemplar_size'),
    (dict(scale_range=(0.3, 0.3)), 'scale_range'),
    (dict(scale_range=(0.0, 0.5)), 'scale_range'),
    (dict(scale_range=(0.5, 1.5)), 'scale_range'),
    (dict(ratio_range=(3., 1.)), 'ratio_range'),
    (dict(rotation_range=(-200., 45.)), 'rotation_range'),
    (dict(num_exemplars=0), 'num_exemplars'),
    (dict(context_size=256), 'context_size'),
])
def test_bad_parameters_fail_at_build(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SampleCIMExemplars(**kwargs)


@pytest.mark.parametrize('image', [np.zeros((50, 96, 3), np.uint8),
                                   np.zeros((96, 96), np.uint8)])
def test_wrong_image_names_the_file(image):
    transform = SampleCIMExemplars(base_size=96, context_size=64, exemplar_size=32)
    with pytest.raises(ValueError, match='some/photo.jpg'):
        transform(dict(img=image, img_path='some/photo.jpg'))
