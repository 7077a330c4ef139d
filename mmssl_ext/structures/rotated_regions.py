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

__all__ = ['sample_boxes', 'rotated_box_regions', 'sample_rotated_regions',
           'region_sampling_grid', 'rasterize_regions', 'crop_rotated_regions']


def sample_boxes(num_images: int,
                 num_boxes: int,
                 image_size: Tuple[int, int],
                 scale_range: Tuple[float, float],
                 ratio_range: Tuple[float, float],
                 num_candidates: int = 10,
                 device: Optional[torch.device] = None,
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Axis-aligned integer boxes drawn as torchvision's ``RandomResizedCrop.get_params``.

    Per box, ``num_candidates`` (area, ratio) pairs: area ``scale * H * W`` with
    ``scale ~ U(scale_range)``, ratio ``w / h`` log-uniform in ``ratio_range``,
    ``w = round(sqrt(area * ratio))``, ``h = round(sqrt(area / ratio))``. The first
    candidate that fits is kept, its top-left corner uniform over the integer positions
    where it fits; if none fits, the centred largest box of the clamped ratio.

    Returns:
        Tensor: (num_images, num_boxes, 4) float boxes ``(x0, y0, w, h)`` in pixels.
    """
    height, width = image_size
    shape = (num_images, num_boxes, num_candidates)

    def uniform(low: float, high: float, size=shape) -> torch.Tensor:
        return low + (high - low) * torch.rand(size, device=device, generator=generator)

    areas = uniform(*scale_range) * height * width
    ratios = uniform(math.log(ratio_range[0]), math.log(ratio_range[1])).exp()
    widths, heights = (areas * ratios).sqrt().round(), (areas / ratios).sqrt().round()
    fits = (widths > 0) & (widths <= width) & (heights > 0) & (heights <= height)
    chosen = fits.to(torch.uint8).argmax(-1, keepdim=True)  # first fitting, else 0
    widths = widths.gather(-1, chosen).squeeze(-1)
    heights = heights.gather(-1, chosen).squeeze(-1)
    fallback_w, fallback_h = _fallback_box(image_size, ratio_range)
    any_fits = fits.any(-1)
    widths = torch.where(any_fits, widths, torch.full_like(widths, fallback_w))
    heights = torch.where(any_fits, heights, torch.full_like(heights, fallback_h))
    x0 = (uniform(0., 1., widths.shape) * (width - widths + 1)).floor()
    y0 = (uniform(0., 1., heights.shape) * (height - heights + 1)).floor()
    x0 = torch.where(any_fits, x0, ((width - widths) / 2).floor())
    y0 = torch.where(any_fits, y0, ((height - heights) / 2).floor())
    return torch.stack([x0, y0, widths, heights], dim=-1)


def _fallback_box(image_size: Tuple[int, int],
                  ratio_range: Tuple[float, float]) -> Tuple[float, float]:
    """(w, h) of torchvision's fallback: the whole image, its ratio clamped to the range."""
    height, width = image_size
    if width / height < ratio_range[0]:
        return float(width), float(round(width / ratio_range[0]))
    if width / height > ratio_range[1]:
        return float(round(height * ratio_range[1])), float(height)
    return float(width), float(height)


def _line_extent(regions: torch.Tensor, u: torch.Tensor, v: torch.Tensor, along_u: bool,
                 image_size: Tuple[int, int]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Where the region-frame line through (u, v) along one region axis is in the image.

    Args:
        regions (Tensor): (..., 5) regions giving the frame (their w, h are unused).
        u, v (Tensor): (...) a point of the line in that frame.
        along_u (bool): the line runs along the region's width (else its height).

    Returns:
        tuple[Tensor]: (...) lowest and highest coordinate along the line (u if
        ``along_u`` else v) of its part inside ``[0, W] x [0, H]``.
    """
    cx, cy, _, _, angle = regions.unbind(-1)
    cos, sin = angle.cos(), angle.sin()
    points = (cx + u * cos - v * sin, cy + u * sin + v * cos)
    directions = (cos, sin) if along_u else (-sin, cos)
    start = u if along_u else v
    low, high = torch.full_like(start, -math.inf), torch.full_like(start, math.inf)
    for point, direction, size in zip(points, directions, image_size[::-1]):
        parallel = direction.abs() < 1e-9  # the line stays inside along this axis
        safe = torch.where(parallel, torch.ones_like(direction), direction)
        enter, leave = (0 - point) / safe, (size - point) / safe
        low = torch.where(parallel, low, torch.maximum(low, torch.minimum(enter, leave)))
        high = torch.where(parallel, high, torch.minimum(high, torch.maximum(enter, leave)))
    return start + low, start + high


def _inside(regions: torch.Tensor, u: torch.Tensor, v: torch.Tensor,
            image_size: Tuple[int, int], tolerance: float = 1e-4) -> torch.Tensor:
    """Whether the region-frame point (u, v) lies in the image (boundary included)."""
    x, y = _region_to_image(regions, u.unsqueeze(-1), v.unsqueeze(-1))
    height, width = image_size
    x, y = x.squeeze(-1), y.squeeze(-1)
    return ((x >= -tolerance) & (x <= width + tolerance) & (y >= -tolerance)
            & (y <= height + tolerance))


def rotated_box_regions(boxes: torch.Tensor, angles: torch.Tensor,
                        image_size: Tuple[int, int]) -> torch.Tensor:
    """CIM reference's exemplar region of an axis-aligned box seen in a rotated image.

    The reference rotates the image by ``angle`` (counter-clockwise on screen, canvas
    expanded) and crops the axis-aligned bounding box of the rotated ``box``; in the
    base image that crop is a rectangle turned by ``angle`` (the region's angle, which
    turns clockwise on screen), centred on the box, of sides ``w|cos| + h|sin|`` by
    ``w|sin| + h|cos|``: it covers more than the box. Where a corner of the crop falls
    outside the image, the reference moves one of the crop's edges to the image
    border along a pinwheel rule that depends on the sign of the angle:

    * angle > 0: top-left out: the top edge goes down to the border at the left edge;
      top-right out: the right edge goes to the border along the (new) top edge;
      bottom-left out: the left edge goes to the border along the bottom edge;
      (new) bottom-right out: the bottom edge goes to the border at the right edge;
    * angle <= 0: top-left out: the left edge goes right to the border along the top
      edge; top-right out: the top edge goes down to the border at the right edge;
      bottom-left out: the bottom edge goes up to the border at the (new) left edge;
      (new) bottom-right out: the right edge goes to the border along the bottom edge.

    "Top", "left" etc. are in the rotated image (the region's own frame). The rule does
    not guarantee that the crop lies inside the image; for angles within +-45 degrees
    it does up to rounding (measured), and any part outside would repeat the border
    pixels in :func:`crop_rotated_regions` where the reference fills zeros.

    Args:
        boxes (Tensor): (..., 4) ``(x0, y0, w, h)`` boxes in the image.
        angles (Tensor): (...) rotations in radians.
        image_size (tuple): (H, W) of the image.

    Returns:
        Tensor: (..., 5) regions ``(cx, cy, w, h, angle)``.
    """
    x0, y0, box_w, box_h = boxes.unbind(-1)
    cos, sin = angles.cos().abs(), angles.sin().abs()
    half_w, half_h = (box_w * cos + box_h * sin) / 2, (box_w * sin + box_h * cos) / 2
    frame = torch.stack([x0 + box_w / 2, y0 + box_h / 2, 2 * half_w, 2 * half_h, angles], -1)
    left, right, top, bottom = -half_w, half_w, -half_h, half_h

    def out(u, v):
        return ~_inside(frame, u, v, image_size)

    def extent(u, v, along_u):
        return _line_extent(frame, u, v, along_u, image_size)

    # angle > 0
    top_p = torch.where(out(left, top), extent(left, top, False)[0], top)
    right_p = torch.where(out(right, top), extent(right, top_p, True)[1], right)
    left_p = torch.where(out(left, bottom), extent(left, bottom, True)[0], left)
    bottom_p = torch.where(out(right_p, bottom), extent(right_p, bottom, False)[1], bottom)
    # angle <= 0
    left_n = torch.where(out(left, top), extent(left, top, True)[0], left)
    top_n = torch.where(out(right, top), extent(right, top, False)[0], top)
    bottom_n = torch.where(out(left, bottom), extent(left_n, bottom, False)[1], bottom)
    right_n = torch.where(out(right, bottom_n), extent(right, bottom_n, True)[1], right)

    positive = angles > 0
    left, right = torch.where(positive, left_p, left_n), torch.where(positive, right_p, right_n)
    top, bottom = torch.where(positive, top_p, top_n), torch.where(positive, bottom_p, bottom_n)
    cx, cy = _region_to_image(frame, ((left + right) / 2).unsqueeze(-1),
                              ((top + bottom) / 2).unsqueeze(-1))
    return torch.stack([cx.squeeze(-1), cy.squeeze(-1), right - left, bottom - top, angles],
                       dim=-1)


def sample_rotated_regions(num_images: int,
                           num_regions: int,
                           image_size: Tuple[int, int],
                           scale_range: Tuple[float, float],
                           ratio_range: Tuple[float, float],
                           angle_range: Tuple[float, float],
                           num_candidates: int = 10,
                           device: Optional[torch.device] = None,
                           generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """CIM's exemplar regions: :func:`sample_boxes`, angles uniform in ``angle_range``
    (degrees), then :func:`rotated_box_regions`.

    Returns:
        Tensor: (num_images, num_regions, 5) regions ``(cx, cy, w, h, angle)``.
    """
    boxes = sample_boxes(num_images, num_regions, image_size, scale_range, ratio_range,
                         num_candidates, device, generator)
    low, high = angle_range
    angles = (low + (high - low) * torch.rand(
        (num_images, num_regions), device=device, generator=generator)).deg2rad()
    return rotated_box_regions(boxes, angles, image_size)


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
                         out_size: Tuple[int, int], mode: str = 'bilinear',
                         antialias: bool = True) -> torch.Tensor:
    """Resample every region of every image upright, in ONE ``grid_sample`` call.

    With ``antialias`` (default) the regions are first sampled at (at least) their own
    pixel size, ``(ceil(max h), ceil(max w))`` over the batch, then resized to
    ``out_size`` with antialiased bicubic interpolation (PIL's filter, what the
    reference's ``resized_crop`` of a PIL image does), clamped to the images' value
    range as PIL clamps. Without it, the output pixels are sampled directly, which
    aliases regions much larger than ``out_size``.

    Args:
        images (Tensor): (B, C, H, W) float images.
        regions (Tensor): (B, N, 5) regions inside the images.
        out_size (tuple): (out_h, out_w).
        mode (str): ``grid_sample`` interpolation. Defaults to 'bilinear'.
        antialias (bool): sample at the regions' resolution, then resize
            antialiased. Defaults to True.

    Returns:
        Tensor: (B, N, C, out_h, out_w) crops.
    """
    batch, num_regions = regions.shape[:2]
    sample_size = out_size
    if antialias and regions.numel():
        largest = regions[..., 2:4].detach().flatten(0, 1).amax(0).ceil().int().tolist()
        sample_size = (max(out_size[0], largest[1]), max(out_size[1], largest[0]))
    sample_h, sample_w = sample_size
    grid = region_sampling_grid(regions, images.shape[-2:], sample_size)
    # The N regions of an image are stacked vertically into one tall grid.
    crops = F.grid_sample(images, grid.reshape(batch, num_regions * sample_h, sample_w, 2),
                          mode=mode, padding_mode='border', align_corners=False)
    crops = crops.view(batch, -1, num_regions, sample_h, sample_w).transpose(1, 2)
    if tuple(sample_size) == tuple(out_size):
        return crops
    resized = F.interpolate(crops.flatten(0, 1), size=tuple(out_size), mode='bicubic',
                            align_corners=False, antialias=True)
    resized = resized.clamp(images.amin(), images.amax())
    return resized.view(batch, num_regions, *resized.shape[1:])


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
