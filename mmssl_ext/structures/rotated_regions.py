"""Rotated rectangular regions of images: sampling, pixel sampling grids, exact rasters.

Coordinates are continuous pixel coordinates: an (H, W) image spans [0, W] x [0, H] and
pixel (i, j) covers [j, j + 1) x [i, i + 1) with its centre at (j + 0.5, i + 0.5).
A region is ``(cx, cy, w, h, angle)``: centre, side lengths along its own axes and the
rotation in radians. A point (u, v) of the region's frame (u along the width, v along
the height, origin at the centre) lies at::

    x = cx + u * cos(angle) - v * sin(angle)
    y = cy + u * sin(angle) + v * cos(angle)

so with y pointing down a positive angle turns the region clockwise on screen.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

__all__ = ['sample_rotated_regions', 'region_sampling_grid', 'rasterize_regions',
           'crop_rotated_regions']


def _half_extents(widths: torch.Tensor, heights: torch.Tensor,
                  angles: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Half width and half height of the axis-aligned box around rotated regions."""
    cos, sin = angles.cos().abs(), angles.sin().abs()
    return (widths * cos + heights * sin) / 2, (widths * sin + heights * cos) / 2


def sample_rotated_regions(num_images: int,
                           num_regions: int,
                           image_size: Tuple[int, int],
                           scale_range: Tuple[float, float],
                           ratio_range: Tuple[float, float],
                           angle_range: Tuple[float, float],
                           num_candidates: int = 10,
                           device: Optional[torch.device] = None,
                           generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Sample rotated regions that lie entirely inside the image.

    Each region's area is ``scale * H * W`` with ``scale ~ U(scale_range)``, its aspect
    ratio ``h / w`` is log-uniform in ``ratio_range`` and its angle uniform in
    ``angle_range`` (degrees). ``num_candidates`` (scale, ratio, angle) triples are drawn
    per region at once and the first one whose rotated rectangle fits inside the image
    is kept; when none fits, the first candidate is shrunk (same ratio and angle) until
    it just fits. The centre is then uniform over all positions where the four corners
    are inside the image.

    Returns:
        Tensor: (num_images, num_regions, 5) regions ``(cx, cy, w, h, angle)``.
    """
    height, width = image_size
    shape = (num_images, num_regions, num_candidates)

    def uniform(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(shape, device=device, generator=generator)

    areas = uniform(*scale_range) * height * width
    ratios = uniform(math.log(ratio_range[0]), math.log(ratio_range[1])).exp()
    angles = uniform(*angle_range).deg2rad()
    widths, heights = (areas / ratios).sqrt(), (areas * ratios).sqrt()
    half_x, half_y = _half_extents(widths, heights, angles)
    fits = (half_x <= width / 2) & (half_y <= height / 2)
    chosen = fits.to(torch.uint8).argmax(-1, keepdim=True)  # first fitting, else 0

    def pick(values: torch.Tensor) -> torch.Tensor:
        return values.gather(-1, chosen).squeeze(-1)

    widths, heights, angles = pick(widths), pick(heights), pick(angles)
    half_x, half_y = pick(half_x), pick(half_y)
    shrink = torch.minimum(width / 2 / half_x, height / 2 / half_y).clamp(max=1.0)
    widths, heights = widths * shrink, heights * shrink
    half_x, half_y = half_x * shrink, half_y * shrink

    centre_x = half_x + (width - 2 * half_x) * torch.rand(
        half_x.shape, device=device, generator=generator)
    centre_y = half_y + (height - 2 * half_y) * torch.rand(
        half_y.shape, device=device, generator=generator)
    return torch.stack([centre_x, centre_y, widths, heights, angles], dim=-1)


def _region_to_image(regions: torch.Tensor, u: torch.Tensor,
                     v: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Image coordinates of region-frame points; regions (..., 5), u / v (..., P)."""
    cx, cy, _, _, angle = regions.unsqueeze(-1).unbind(-2)
    cos, sin = angle.cos(), angle.sin()
    return cx + u * cos - v * sin, cy + u * sin + v * cos


def region_sampling_grid(regions: torch.Tensor, image_size: Tuple[int, int],
                         out_size: Tuple[int, int]) -> torch.Tensor:
    """``grid_sample`` grid (align_corners=False) that resamples each region upright.

    Output pixel (i, j) of a region is taken at the region-frame point
    ``u = ((j + 0.5) / out_w - 0.5) * w``, ``v = ((i + 0.5) / out_h - 0.5) * h``.

    Args:
        regions (Tensor): (B, N, 5) regions.
        image_size (tuple): (H, W) of the sampled image.
        out_size (tuple): (out_h, out_w) of each region's output.

    Returns:
        Tensor: (B, N, out_h, out_w, 2) normalised (x, y) sampling positions.
    """
    out_h, out_w = out_size
    rows = (torch.arange(out_h, device=regions.device, dtype=regions.dtype) + 0.5) / out_h
    cols = (torch.arange(out_w, device=regions.device, dtype=regions.dtype) + 0.5) / out_w
    v = (rows - 0.5).view(out_h, 1).expand(out_h, out_w).reshape(-1)
    u = (cols - 0.5).view(1, out_w).expand(out_h, out_w).reshape(-1)
    u = u * regions[..., 2:3]
    v = v * regions[..., 3:4]
    x, y = _region_to_image(regions, u, v)
    height, width = image_size
    grid = torch.stack([2 * x / width - 1, 2 * y / height - 1], dim=-1)
    return grid.view(*regions.shape[:2], out_h, out_w, 2)


def crop_rotated_regions(images: torch.Tensor, regions: torch.Tensor,
                         out_size: Tuple[int, int], mode: str = 'bilinear') -> torch.Tensor:
    """Resample every region of every image upright, in ONE ``grid_sample`` call.

    Args:
        images (Tensor): (B, C, H, W) float images.
        regions (Tensor): (B, N, 5) regions inside the images.
        out_size (tuple): (out_h, out_w).

    Returns:
        Tensor: (B, N, C, out_h, out_w) crops.
    """
    batch, num_regions = regions.shape[:2]
    out_h, out_w = out_size
    grid = region_sampling_grid(regions, images.shape[-2:], out_size)
    # The N regions of an image are stacked vertically into one tall grid.
    crops = F.grid_sample(images, grid.reshape(batch, num_regions * out_h, out_w, 2),
                          mode=mode, padding_mode='border', align_corners=False)
    return crops.view(batch, -1, num_regions, out_h, out_w).transpose(1, 2)


def rasterize_regions(regions: torch.Tensor, image_size: Tuple[int, int],
                      map_size: Tuple[int, int]) -> torch.Tensor:
    """Exact binary maps of regions on a (possibly coarser) grid over the image.

    Map pixel (i, j) is 1 iff its centre, ``((j + 0.5) * W / map_w, (i + 0.5) * H /
    map_h)`` in image coordinates, lies inside the rotated rectangle.

    Args:
        regions (Tensor): (B, N, 5) regions in image coordinates.
        image_size (tuple): (H, W) of the image the regions live in.
        map_size (tuple): (map_h, map_w) of the output maps.

    Returns:
        Tensor: (B, N, map_h, map_w) bool maps.
    """
    height, width = image_size
    map_h, map_w = map_size
    ys = (torch.arange(map_h, device=regions.device, dtype=regions.dtype) + 0.5) * height / map_h
    xs = (torch.arange(map_w, device=regions.device, dtype=regions.dtype) + 0.5) * width / map_w
    cx, cy, w, h, angle = (t[..., None, None] for t in regions.unbind(-1))
    dx, dy = xs.view(1, map_w) - cx, ys.view(map_h, 1) - cy
    cos, sin = angle.cos(), angle.sin()
    u = dx * cos + dy * sin
    v = -dx * sin + dy * cos
    return (u.abs() <= w / 2) & (v.abs() <= h / 2)
