"""Rotated regions: sampling stays inside, crops sample the right pixels, maps are exact."""
import math

import pytest
import torch
from shapely.geometry import Point, Polygon

from mmssl_ext.structures import (crop_rotated_regions, rasterize_regions,
                                  sample_rotated_regions)


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
    ((0.9, 1.0), (1., 1.01), (-180., 180.)),    # cannot fit: shrunk to fit
])
def test_regions_lie_inside_the_image(scale_range, ratio_range, angle_range):
    torch.manual_seed(0)
    height, width = 224, 192
    regions = sample_rotated_regions(64, 6, (height, width), scale_range, ratio_range,
                                     angle_range).double()
    for region in regions.view(-1, 5):
        xs, ys = zip(*_corners(region))
        assert min(xs) >= -1e-4 and max(xs) <= width + 1e-4  # fp32 sampling
        assert min(ys) >= -1e-4 and max(ys) <= height + 1e-4
    ratios = regions[..., 3] / regions[..., 2]
    assert ratios.min() >= ratio_range[0] - 1e-6 and ratios.max() <= ratio_range[1] + 1e-6
    angles = regions[..., 4].rad2deg()
    assert angles.min() >= angle_range[0] - 1e-4 and angles.max() <= angle_range[1] + 1e-4


def test_sampled_scale_and_ratio_distribution():
    torch.manual_seed(0)
    regions = sample_rotated_regions(500, 6, (224, 224), (0.05, 0.48), (1 / 3, 3.),
                                     (-45., 45.))
    scales = regions[..., 2] * regions[..., 3] / 224**2
    assert scales.min() >= 0.05 - 1e-5 and scales.max() <= 0.48 + 1e-5
    assert scales.mean() == pytest.approx(0.265, abs=0.02)  # mostly fits: ~uniform
    log_ratio = (regions[..., 3] / regions[..., 2]).log()
    assert log_ratio.mean() == pytest.approx(0.0, abs=0.05)  # log-uniform, symmetric


def test_crop_samples_the_image_at_the_rotated_positions():
    """A coordinate image decodes back to the expected region-frame positions."""
    torch.manual_seed(0)
    height, width, out = 96, 80, 8
    regions = sample_rotated_regions(2, 3, (height, width), (0.1, 0.4), (0.5, 2.),
                                     (-45., 45.)).double()
    crops = crop_rotated_regions(_coordinate_image(height, width).repeat(2, 1, 1, 1),
                                 regions, (out, out))
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
    crops = crop_rotated_regions(image, regions, (6, 4))
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
    torch.manual_seed(0)
    size = 64
    # elongated and clearly turned, sides >= 15 px: crop samples of a 4 x 4 output lie
    # > sqrt(2) px inside the rectangle, so all bilinear taps are raster pixels set to 1
    regions = sample_rotated_regions(4, 6, (size, size), (0.2, 0.3), (0.3, 0.4),
                                     (30., 45.)).double()
    mirrored = regions.clone()
    mirrored[..., 4] *= -1

    def crops_of_own_raster(raster_regions):
        rasters = rasterize_regions(raster_regions, (size, size), (size, size)).double()
        crops = crop_rotated_regions(rasters, regions, (4, 4))  # (B, N, N, 4, 4)
        return crops.diagonal(dim1=1, dim2=2)  # region n cropped from raster n

    own = crops_of_own_raster(regions)
    torch.testing.assert_close(own, torch.ones_like(own))
    assert bool((crops_of_own_raster(mirrored).amin((1, 2)) == 0).all())
