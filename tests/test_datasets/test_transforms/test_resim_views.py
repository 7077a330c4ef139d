"""ReSimViews: two crops with recorded geometry, one shared flip, content-consistent mapping."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.datasets.transforms import PackInputs

from mmssl_ext.datasets.transforms import ReSimViews
from mmssl_ext.structures.region_windows import query_key_regions, sliding_windows


def _smooth_image(height=240, width=320):
    v, u = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    channel = np.sin(u / 15.) + np.cos(v / 19. + 0.4 * np.sin(u / 31.))
    return np.stack([channel, channel * 0.5, -channel], -1).astype(np.float32)


def _sample(view, points):
    """(S, S, 3) view at (P, 2) continuous (x, y) pixel points -> (3, P)."""
    tensor = torch.from_numpy(np.ascontiguousarray(view)).permute(2, 0, 1)[None]
    grid = (2 * points / view.shape[0] - 1).view(1, 1, -1, 2).float()
    return F.grid_sample(tensor, grid, align_corners=False)[0, :, 0]


def test_views_geometry_and_packing():
    np.random.seed(0)
    image = (np.random.rand(100, 150, 3) * 255).astype(np.uint8)
    results = ReSimViews(size=64)(dict(img=image))
    query, key = results['img']
    assert query.shape == key.shape == (64, 64, 3) and query.dtype == np.uint8
    boxes = results['crop_boxes']
    assert boxes.shape == (2, 4) and boxes.dtype == np.float32
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2] <= 150).all() and (boxes[:, 3] <= 100).all()
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) / (100 * 150)
    assert (areas > 0.15).all() and (areas <= 1).all()
    packed = PackInputs(algorithm_keys=['crop_boxes'])(results)
    assert len(packed['inputs']) == 2 and packed['inputs'][0].shape == (3, 64, 64)
    assert np.array_equal(packed['data_samples'].crop_boxes, boxes)
    assert packed['data_samples'].flip == results['flip']


def test_flip_is_shared_by_both_views():
    image = (np.random.RandomState(1).rand(90, 120, 3) * 255).astype(np.uint8)
    for seed in range(5):
        np.random.seed(seed)
        flipped = ReSimViews(size=48, flip_prob=1.0)(dict(img=image))
        np.random.seed(seed)
        plain = ReSimViews(size=48, flip_prob=0.0)(dict(img=image))
        assert flipped['flip'] and not plain['flip']
        assert np.array_equal(flipped['crop_boxes'], plain['crop_boxes'])
        for view_flipped, view_plain in zip(flipped['img'], plain['img']):
            assert np.array_equal(view_flipped, view_plain[:, ::-1])


def test_mapped_windows_show_the_same_content():
    image = _smooth_image()
    transform = ReSimViews(size=224, scale=(0.3, 1.0), backend='cv2')
    relative = torch.tensor([[0.25, 0.25], [0.5, 0.5], [0.8, 0.3], [0.1, 0.9]])
    windows = sliding_windows((224, 224), 48, 32)
    checked, flips = 0, set()
    for seed in range(8):
        np.random.seed(seed)
        results = transform(dict(img=image.copy()))
        crops = torch.from_numpy(results['crop_boxes'])[None]
        _, key_boxes, valid = query_key_regions(windows, crops, torch.tensor([results['flip']]),
                                                (224, 224), (224, 224))
        flips.add(results['flip'])
        for q_box, k_box in zip(windows[valid[0]], key_boxes[0][valid[0]]):
            q_values = _sample(results['img'][0], q_box[:2] + relative * (q_box[2:] - q_box[:2]))
            k_values = _sample(results['img'][1], k_box[:2] + relative * (k_box[2:] - k_box[:2]))
            assert torch.allclose(q_values, k_values, atol=0.05), seed
            checked += 1
    assert checked > 20 and flips == {True, False}


@pytest.mark.parametrize('kwargs, match', [(dict(scale=(0, 1)), 'scale'),
                                           (dict(flip_prob=2), 'flip_prob'),
                                           (dict(size=0), 'size')])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ReSimViews(**kwargs)
