"""ReSim windows: grid, validity, and mapped boxes landing on the same image content."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmssl_ext.structures.region_windows import (boxes_inside, map_boxes, query_key_regions,
                                                   sliding_windows)


def _image(u, v):
    """A smooth synthetic image, a function of original-image pixel coordinates."""
    return torch.sin(u / 13.) + torch.cos(v / 17. + 0.3 * torch.sin(u / 29.))


def _render(crop, size, flip):
    """A view: the crop (x1, y1, x2, y2) resized to size x size, optionally mirrored."""
    centres = torch.arange(size, dtype=torch.float64) + 0.5
    xs = size - centres if flip else centres
    x1, y1, x2, y2 = crop
    u = x1 + xs * (x2 - x1) / size
    v = y1 + centres * (y2 - y1) / size
    return _image(u[None, :], v[:, None])


def _sample(view, points):
    """Bilinear samples of a (S, S) view at (P, 2) continuous (x, y) pixel points."""
    size = view.shape[-1]
    grid = (2 * points / size - 1).view(1, 1, -1, 2)
    return F.grid_sample(view[None, None], grid, align_corners=False).flatten()


def reference_grid(count, window, stride, size=224):
    """The reference code's query windows (its dataset's loops, written out): ``count``
    x ``count`` starts at multiples of ``stride``, skipping any window whose far side
    reaches the image edge (x1 >= 224 or y1 >= 224); row-major (x0, y0, x1, y1)."""
    boxes = []
    for i in range(count):
        for j in range(count):
            y0, x0 = i * stride, j * stride
            y1, x1 = y0 + window, x0 + window
            if x1 >= size or y1 >= size:
                continue
            boxes.append([x0, y0, x1, y1])
    return boxes


def test_default_grid_is_the_reference_grid():
    p3 = sliding_windows((224, 224), 32, 24)
    assert p3.tolist() == reference_grid(8, 32, 24)  # 8 x 8 = 64
    assert sliding_windows((224, 224), 48, 32).tolist() == reference_grid(6, 48, 32)  # 36
    # a larger loop bound changes nothing in the reference: windows reaching the edge go
    assert len(reference_grid(9, 32, 24)) == len(p3) == 64


def test_edge_windows_option_places_every_window_that_fits():
    p3 = sliding_windows((224, 224), 32, 24, edge_windows=True)
    assert len(p3) == 81 and p3[-1].tolist() == [192., 192., 224., 224.]
    assert len(sliding_windows((224, 224), 48, 32, edge_windows=True)) == 36
    tall = sliding_windows((96, 64), 32, 32, edge_windows=True)  # (height, width): 3 x 2
    assert tall[:, 0].unique().tolist() == [0., 32.]
    assert tall[:, 1].unique().tolist() == [0., 32., 64.]
    tall = sliding_windows((96, 64), 32, 32)  # without the row / column ending on an edge
    assert tall[:, 0].unique().tolist() == [0.] and tall[:, 1].unique().tolist() == [0., 32.]
    assert len(sliding_windows((64, 64), 64, 8, edge_windows=True)) == 1
    with pytest.raises(ValueError, match='window=64 .*edge_windows=False'):
        sliding_windows((64, 64), 64, 8)


@pytest.mark.parametrize('window, stride, match', [(300, 32, 'window=300'), (0, 8, 'window=0'),
                                                   (48, 0, 'stride=0'), (48, -4, 'stride=-4')])
def test_bad_windows_name_the_parameter(window, stride, match):
    with pytest.raises(ValueError, match=match):
        sliding_windows((224, 224), window, stride)


@pytest.mark.parametrize('flip', [False, True])
def test_mapped_boxes_land_on_the_same_content(flip):
    size = 224
    query_crop, key_crop = (40., 30., 260., 230.), (90., 10., 330., 190.)
    query, key = _render(query_crop, size, flip), _render(key_crop, size, flip)
    windows = sliding_windows((size, size), 48, 32)
    crops = torch.tensor([[query_crop, key_crop]], dtype=torch.float64)
    query_boxes, key_boxes, valid = query_key_regions(windows, crops, torch.tensor([flip]),
                                                      (size, size), (size, size))
    assert 0 < valid.sum() < len(windows)
    relative = torch.tensor([[0.25, 0.25], [0.5, 0.5], [0.8, 0.3], [0.1, 0.9]],
                            dtype=torch.float64)
    for q_box, k_box in zip(query_boxes[0][valid[0]], key_boxes[0][valid[0]]):
        q_points = q_box[:2] + relative * (q_box[2:] - q_box[:2])
        k_points = k_box[:2] + relative * (k_box[2:] - k_box[:2])
        assert torch.allclose(_sample(query, q_points), _sample(key, k_points), atol=2e-3)


def test_validity_is_containment_in_the_key_view():
    crops = torch.tensor([[[0., 0., 100., 100.], [50., 0., 150., 100.]]])
    windows = torch.tensor([[60., 0., 100., 40.], [20., 0., 60., 40.], [40., 60., 100., 100.]])
    for flip in (False, True):
        _, key_boxes, valid = query_key_regions(windows, crops, torch.tensor([flip]),
                                                (100, 100), (100, 100))
        # unflipped: query x in [50, 100] is key x in [0, 50]; flipped: the mirror image
        expected = [[True, False, False]] if not flip else [[False, False, False]]
        assert valid.tolist() == expected, flip
    mirrored = torch.tensor([[0., 0., 40., 40.]])
    _, key_boxes, valid = query_key_regions(mirrored, crops, torch.tensor([True]),
                                            (100, 100), (100, 100))
    assert valid.tolist() == [[True]]
    assert torch.allclose(key_boxes, torch.tensor([[[50., 0., 90., 40.]]]))


def test_map_boxes_scales_and_round_trips():
    generator = torch.Generator().manual_seed(0)
    boxes = torch.rand(3, 5, 4, generator=generator) * 50
    src = torch.tensor([[10., 20., 110., 220.]] * 3)
    dst = torch.tensor([[30., 0., 230., 100.]] * 3)
    flips = torch.tensor([False, True, True])
    there = map_boxes(boxes, src, dst, (64, 32), (48, 96), flips, flips)
    back = map_boxes(there, dst, src, (48, 96), (64, 32), flips, flips)
    assert torch.allclose(back, boxes, atol=1e-4)
    assert boxes_inside(torch.tensor([0., 0., 32., 64.]), (64, 32))
    assert not math.isnan(there.sum().item())
