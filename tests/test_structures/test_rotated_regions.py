"""Rotated regions: the reference's exemplar boxes, crops sample the right pixels, maps
are exact."""
import math

import numpy as np
import pytest
import torch
from PIL import Image
from shapely.geometry import Point, Polygon

from mmssl_ext.structures import (crop_rotated_regions, rasterize_regions,
                                  rotated_box_regions, sample_boxes, sample_rotated_regions)


def _corners(region):
    cx, cy, w, h, angle = region.tolist()
    cos, sin = math.cos(angle), math.sin(angle)
    return [(cx + u * cos - v * sin, cy + u * sin + v * cos)
            for u, v in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]


def _coordinate_image(height, width):
    """(1, 2, H, W) image whose channels are the x and y of each pixel centre."""
    ys, xs = torch.meshgrid(torch.arange(height) + 0.5, torch.arange(width) + 0.5,
                            indexing='ij')
    return torch.stack([xs, ys]).unsqueeze(0).double()


@pytest.mark.parametrize('scale_range,ratio_range,angle_range', [
    ((0.05, 0.48), (1 / 3, 3.), (-45., 45.)),
    ((0.47, 0.48), (2.9, 3.), (44., 45.)),      # extremes of every range
    ((0.47, 0.48), (1 / 3, 0.34), (-45., -44.)),
])
def test_regions_lie_inside_the_image(scale_range, ratio_range, angle_range):
    """The trimmed bounding boxes stay inside (up to the widening's exit point)."""
    torch.manual_seed(0)
    height, width = 224, 192
    regions = sample_rotated_regions(64, 6, (height, width), scale_range, ratio_range,
                                     angle_range).double()
    for region in regions.view(-1, 5):
        xs, ys = zip(*_corners(region))
        assert min(xs) >= -1e-3 and max(xs) <= width + 1e-3  # fp32 sampling
        assert min(ys) >= -1e-3 and max(ys) <= height + 1e-3
    angles = regions[..., 4].rad2deg()
    assert angles.min() >= angle_range[0] - 1e-4 and angles.max() <= angle_range[1] + 1e-4


def test_region_contains_its_box_unless_trimmed():
    """Untrimmed, the region is the rotated bounding box of the box: it contains the box
    and has area w h + (w^2 + h^2) |sin cos|."""
    boxes = torch.tensor([[80., 90., 60., 30.], [100., 100., 20., 40.]], dtype=torch.float64)
    angles = torch.tensor([0.3, -0.5], dtype=torch.float64)
    regions = rotated_box_regions(boxes, angles, (224, 224))
    for box, angle, region in zip(boxes.tolist(), angles.tolist(), regions):
        x0, y0, w, h = box
        polygon = Polygon(_corners(region))
        assert polygon.buffer(1e-6).contains(Polygon(
            [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)]))
        expected = w * h + (w * w + h * h) * abs(math.sin(angle) * math.cos(angle))
        assert polygon.area == pytest.approx(expected)
        assert region[4].item() == pytest.approx(angle)


def test_box_scale_and_ratio_distribution():
    """torchvision's RandomResizedCrop draw: integer boxes inside, area within range."""
    torch.manual_seed(0)
    boxes = sample_boxes(500, 6, (224, 224), (0.05, 0.48), (1 / 3, 3.))
    x0, y0, w, h = boxes.unbind(-1)
    assert torch.equal(boxes, boxes.round())
    assert (x0 >= 0).all() and (y0 >= 0).all()
    assert (x0 + w <= 224).all() and (y0 + h <= 224).all()
    scales = w * h / 224**2
    assert scales.min() >= 0.05 - 0.01 and scales.max() <= 0.48 + 0.01  # w, h rounded
    # candidates with w or h > 224 are rejected: accepted scales lean small
    assert scales.mean() == pytest.approx(0.24, abs=0.02)
    assert (w / h).log().mean() == pytest.approx(0.0, abs=0.05)  # symmetric


def _reference_crop(box, degree, size):
    """The reference's exemplar crop, reproduced on pixels with PIL.

    A uint8 mask (1 = image, 2 = box) is rotated by ``degree`` (counter-clockwise,
    expanded canvas, nearest, as torchvision's ``F.rotate`` of a PIL image), the box's
    bounding box is taken, and each bounding-box corner that is not on an image pixel
    moves one edge to the last image pixel of a row or column (pinwheel rule, see
    ``rotated_box_regions``). Returns the continuous crop ``(left, top, right,
    bottom)`` in the canvas and the canvas (width, height).
    """
    x0, y0, w, h = box
    mask = np.ones((size, size), np.uint8)
    mask[y0:y0 + h, x0:x0 + w] = 2
    rotated = np.asarray(Image.fromarray(mask).rotate(degree, expand=True,
                                                      resample=Image.NEAREST))
    inside = rotated > 0
    rows, cols = np.nonzero(rotated == 2)
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()

    def rows_at(col):
        image_rows = np.nonzero(inside[:, col])[0]
        return image_rows.min(), image_rows.max()

    def cols_at(row):
        image_cols = np.nonzero(inside[row])[0]
        return image_cols.min(), image_cols.max()

    tl_out, tr_out, bl_out = (not inside[top, left], not inside[top, right],
                              not inside[bottom, left])
    if degree > 0:
        new_top = rows_at(left)[0] if tl_out else top
        new_right = cols_at(new_top)[1] if tr_out else right
        new_left = cols_at(bottom)[0] if bl_out else left
        new_bottom = rows_at(new_right)[1] if not inside[bottom, new_right] else bottom
    else:
        new_left = cols_at(top)[0] if tl_out else left
        new_top = rows_at(right)[0] if tr_out else top
        new_bottom = rows_at(new_left)[1] if bl_out else bottom
        new_right = cols_at(new_bottom)[1] if not inside[new_bottom, right] else right
    return (new_left, new_top, new_right + 1, new_bottom + 1), rotated.shape[::-1]


def _reference_boxes(rng, count, size, scale=(0.05, 0.48), ratio=(1 / 3, 3.)):
    """torchvision's get_params (first of 10 tries that fits) with numpy's generator."""
    boxes = []
    while len(boxes) < count:
        for _ in range(10):
            area = size * size * rng.uniform(*scale)
            aspect = math.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1])))
            w, h = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if 0 < w <= size and 0 < h <= size:
                boxes.append((int(rng.integers(0, size - w + 1)),
                              int(rng.integers(0, size - h + 1)), w, h))
                break
    return boxes


def test_exemplar_regions_are_the_reference_crops():
    """Same boxes and angles: our continuous region is the reference's pixel crop."""
    size, count = 224, 300
    rng = np.random.default_rng(0)
    boxes = _reference_boxes(rng, count, size)
    degrees = rng.integers(-45, 45, count)
    regions = rotated_box_regions(torch.tensor(boxes, dtype=torch.float64),
                                  torch.tensor(degrees, dtype=torch.float64).deg2rad(),
                                  (size, size))
    errors = []
    for box, degree, region in zip(boxes, degrees.tolist(), regions):
        crop, canvas = _reference_crop(box, degree, size)
        # our region's top-left and bottom-right corners in PIL's expanded canvas
        cx, cy, w, h, angle = region.tolist()
        t = math.radians(degree)
        corners = []
        for u, v in ((-w / 2, -h / 2), (w / 2, h / 2)):
            x = cx + u * math.cos(angle) - v * math.sin(angle) - size / 2
            y = cy + u * math.sin(angle) + v * math.cos(angle) - size / 2
            corners += [x * math.cos(t) + y * math.sin(t) + canvas[0] / 2,
                        -x * math.sin(t) + y * math.cos(t) + canvas[1] / 2]
        errors.append(np.abs(np.subtract(corners, crop)).max())
    errors = np.array(errors)
    # pixel quantisation of the rotated mask; a corner exactly on the border can flip
    # the reference's in/out test (about 1 in 400)
    assert np.median(errors) < 1.0
    assert (errors <= 2.0).mean() >= 0.98


def test_exemplar_region_statistics_match_the_reference():
    """Map area / image area and its spread: reference pixel crops vs our sampler."""
    size, count = 224, 600
    rng = np.random.default_rng(1)
    reference = []
    for box in _reference_boxes(rng, count, size):
        (left, top, right, bottom), _ = _reference_crop(box, int(rng.integers(-45, 45)),
                                                        size)
        reference.append((right - left) * (bottom - top) / size**2)
    reference = np.array(reference)
    torch.manual_seed(0)
    regions = sample_rotated_regions(count, 6, (size, size), (0.05, 0.48), (1 / 3, 3.),
                                     (-45., 45.)).double()
    ours = rasterize_regions(regions, (size, size), (160, 160)).double().mean((2, 3))
    assert reference.mean() == pytest.approx(0.31, abs=0.015)
    assert ours.mean().item() == pytest.approx(reference.mean(), abs=0.01)
    assert ours.std().item() == pytest.approx(reference.std(), abs=0.01)
    # regions cover more than the drawn box: beyond the 0.48 of the scale range
    assert ours.max().item() > 0.55 and reference.max() > 0.55


def test_crop_samples_the_image_at_the_rotated_positions():
    """A coordinate image decodes back to the expected region-frame positions."""
    torch.manual_seed(0)
    height, width, out = 96, 80, 8
    regions = sample_rotated_regions(2, 3, (height, width), (0.1, 0.4), (0.5, 2.),
                                     (-45., 45.)).double()
    crops = crop_rotated_regions(_coordinate_image(height, width).repeat(2, 1, 1, 1),
                                 regions, (out, out), antialias=False)
    assert crops.shape == (2, 3, 2, out, out)
    for b in range(2):
        for n in range(3):
            cx, cy, w, h, angle = regions[b, n].tolist()
            for i, j in ((0, 0), (3, 5), (out - 1, out - 1)):
                u, v = ((j + 0.5) / out - 0.5) * w, ((i + 0.5) / out - 0.5) * h
                x = cx + u * math.cos(angle) - v * math.sin(angle)
                y = cy + u * math.sin(angle) + v * math.cos(angle)
                assert crops[b, n, 0, i, j].item() == pytest.approx(x, abs=1e-6)
                assert crops[b, n, 1, i, j].item() == pytest.approx(y, abs=1e-6)


def test_zero_angle_crop_is_the_axis_aligned_patch():
    image = torch.arange(3 * 16 * 16, dtype=torch.float64).view(1, 3, 16, 16)
    regions = torch.tensor([[[6., 5., 4., 6., 0.], [10., 8., 8., 4., 0.]]],
                           dtype=torch.float64)
    crops = crop_rotated_regions(image, regions, (6, 4), antialias=False)
    torch.testing.assert_close(crops[0, 0], image[0, :, 2:8, 4:8])
    # The image is linear in (row, col), so bilinear sampling is exact:
    # value(c, y, x) = 256 c + 16 (y - 0.5) + (x - 0.5) at continuous (x, y).
    xs = 10 + ((torch.arange(4) + 0.5) / 4 - 0.5) * 8
    ys = 8 + ((torch.arange(6) + 0.5) / 6 - 0.5) * 4
    expected = (256 * torch.arange(3).view(3, 1, 1) + 16 * (ys.view(1, 6, 1) - 0.5)
                + (xs.view(1, 1, 4) - 0.5)).double()
    torch.testing.assert_close(crops[0, 1], expected)


def test_raster_equals_the_rotated_rectangle():
    torch.manual_seed(1)
    base, grid = 224, 160
    regions = sample_rotated_regions(2, 4, (base, base), (0.05, 0.48), (1 / 3, 3.),
                                     (-45., 45.)).double()
    maps = rasterize_regions(regions, (base, base), (grid, grid))
    step = base / grid
    for b in range(2):
        for n in range(4):
            polygon = Polygon(_corners(regions[b, n]))
            for i in range(0, grid, 7):
                for j in range(0, grid, 7):
                    centre = Point((j + 0.5) * step, (i + 0.5) * step)
                    if polygon.exterior.distance(centre) < 1e-6:
                        continue
                    assert bool(maps[b, n, i, j]) == polygon.contains(centre), (b, n, i, j)
            area_ratio = maps[b, n].double().mean().item()
            assert area_ratio == pytest.approx(polygon.area / base**2, abs=0.01)


def test_raster_hand_case_quarter_turn():
    # a 4 x 2 rectangle turned by 90 degrees covers 2 columns x 4 rows
    region = torch.tensor([[[4., 4., 4., 2., math.pi / 2]]], dtype=torch.float64)
    raster = rasterize_regions(region, (8, 8), (8, 8))[0, 0]
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[2:6, 3:5] = True
    assert torch.equal(raster, expected)


def test_crops_and_rasters_share_the_rotation_convention():
    """Cropping a region out of its own raster gives only ones; the mirrored angle does not."""
    size = 64
    # elongated and clearly turned, sides >= 15 px: crop samples of a 4 x 4 output lie
    # > sqrt(2) px inside the rectangle, so all bilinear taps are raster pixels set to 1
    generator = torch.Generator().manual_seed(0)
    sides = 15 + 3 * torch.rand(4, 6, 2, generator=generator, dtype=torch.float64)
    regions = torch.cat([
        24 + 16 * torch.rand(4, 6, 2, generator=generator, dtype=torch.float64),
        sides * torch.tensor([1., 2.], dtype=torch.float64),  # inside the image
        (30 + 15 * torch.rand(4, 6, 1, generator=generator, dtype=torch.float64)).deg2rad()],
        dim=-1)
    mirrored = regions.clone()
    mirrored[..., 4] *= -1

    def crops_of_own_raster(raster_regions):
        rasters = rasterize_regions(raster_regions, (size, size), (size, size)).double()
        crops = crop_rotated_regions(rasters, regions, (4, 4),
                                     antialias=False)  # (B, N, N, 4, 4)
        return crops.diagonal(dim1=1, dim2=2)  # region n cropped from raster n

    own = crops_of_own_raster(regions)
    torch.testing.assert_close(own, torch.ones_like(own))
    assert bool((crops_of_own_raster(mirrored).amin((1, 2)) == 0).all())


def test_antialiased_crop_is_pils_bicubic_resize():
    """Upright integer box: the crop is the reference's PIL bicubic resize (uint8)."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (96, 112), dtype=np.uint8)
    x0, y0, w, h = 10, 7, 90, 75
    expected = np.asarray(Image.fromarray(image[y0:y0 + h, x0:x0 + w]).resize(
        (24, 20), Image.BICUBIC)).astype(np.float64)
    region = torch.tensor([[[x0 + w / 2, y0 + h / 2, w, h, 0.]]], dtype=torch.float64)
    crop = crop_rotated_regions(torch.from_numpy(image).double()[None, None], region,
                                (20, 24))[0, 0, 0].numpy()
    assert np.abs(crop.round() - expected).max() <= 1  # PIL rounds in fixed point
    aliased = crop_rotated_regions(torch.from_numpy(image).double()[None, None], region,
                                   (20, 24), antialias=False)[0, 0, 0].numpy()
    assert np.abs(aliased - expected).mean() > 10 * np.abs(crop - expected).mean()


@pytest.mark.parametrize('degree', [0, 30])
def test_antialiasing_removes_a_grating_above_the_exemplar_nyquist(degree):
    """A grating of period 3 px cropped 2.6x smaller has no frequency the exemplar can
    hold: the reference (PIL rotate + bicubic resize) flattens it at 0 degrees, so do
    we at every angle; sampling the output pixels directly keeps it as aliasing."""
    size, box = 224, (20, 30, 170, 160)
    grating = 127.5 + 100 * np.sin(2 * np.pi * (np.arange(size) + 0.5) / 3.0)
    image = np.round(np.tile(grating, (size, 1))).astype(np.uint8)
    region = rotated_box_regions(torch.tensor([[box]], dtype=torch.float64),
                                 torch.tensor([[math.radians(degree)]], dtype=torch.float64),
                                 (size, size))
    tensor = torch.from_numpy(image).double()[None, None]

    def energy(crop):
        return float(np.std(crop)) / float(image.std())

    (left, top, right, bottom), _ = _reference_crop(box, degree, size)
    reference = np.asarray(Image.fromarray(image).rotate(
        degree, expand=True, resample=Image.NEAREST).crop((left, top, right, bottom)).resize(
            (64, 64), Image.BICUBIC)).astype(np.float64)
    ours = crop_rotated_regions(tensor, region, (64, 64))[0, 0, 0].numpy()
    aliased = crop_rotated_regions(tensor, region, (64, 64), antialias=False)[0, 0, 0].numpy()
    assert energy(ours) < 0.06
    assert energy(aliased) > 0.3
    if degree == 0:
        assert energy(reference) < 0.06
