"""ReSim's sliding windows and their mapping from the query view into the key view.

Coordinates are continuous pixel coordinates (pixel i covers [i, i + 1)); boxes are
``(x1, y1, x2, y2)``. A view is a crop ``(x1, y1, x2, y2)`` of the original image resized
to ``(height, width)`` and then, if the sample's shared flip is set, mirrored
horizontally (both views of a sample are flipped or neither). Mapping a query-view box
into the key view (``R_k o R_q^-1``): undo the query flip, go to original pixels through
the query crop, come back through the key crop, apply the key flip.
"""
from typing import Sequence, Tuple

import torch


def sliding_windows(view_size: Sequence[int], window: int, stride: int,
                    edge_windows: bool = False) -> torch.Tensor:
    """Square windows slid over a view, row-major, starting at 0.

    ``edge_windows=False`` (the reference code): a window must end strictly inside the
    view, ``(size - window - 1) // stride + 1`` positions per axis: 8 x 8 for 224 px
    views, 32 px windows, stride 24 (the reference's P3 grid; the window at 192 would
    end on the edge) and 6 x 6 for 48 px windows, stride 32. ``True``: every position
    that fits, ``(size - window) // stride + 1`` per axis (9 x 9 and 6 x 6).

    Args:
        view_size (Sequence[int]): ``(height, width)`` of the view in pixels.
        window (int): window side in pixels, > 0, at most ``min(view_size)`` (less than
            it without ``edge_windows``).
        stride (int): step in pixels, > 0.
        edge_windows (bool): also place windows whose far side lies on the view's edge.
            Defaults to False.

    Returns:
        Tensor: (N, 4) float boxes ``(x1, y1, x2, y2)`` in view pixels.

    Raises:
        ValueError: naming ``window`` or ``stride`` when they do not fit.
    """
    height, width = view_size
    if stride <= 0:
        raise ValueError(f'window stride must be > 0, got stride={stride}')
    margin = 0 if edge_windows else 1  # the last start is size - window - margin
    if not 0 < window <= min(height, width) - margin:
        rule = '' if edge_windows else ' and end inside it (edge_windows=False)'
        raise ValueError(f'window={window} must be > 0 and fit in the {height}x{width} '
                         f'view{rule}')
    ys = torch.arange(0, height - window - margin + 1, stride, dtype=torch.float32)
    xs = torch.arange(0, width - window - margin + 1, stride, dtype=torch.float32)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    corners = torch.stack([grid_x.flatten(), grid_y.flatten()], -1)
    return torch.cat([corners, corners + window], -1)


def _mirror(boxes: torch.Tensor, width: float, flips: torch.Tensor) -> torch.Tensor:
    """Mirror (B, N, 4) boxes of the samples with ``flips`` (B,) set in a view of ``width``."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    mirrored = torch.stack([width - x2, y1, width - x1, y2], -1)
    return torch.where(flips.view(-1, 1, 1), mirrored, boxes)


def map_boxes(boxes: torch.Tensor, src_crops: torch.Tensor, dst_crops: torch.Tensor,
              src_size: Sequence[int], dst_size: Sequence[int], src_flips: torch.Tensor,
              dst_flips: torch.Tensor) -> torch.Tensor:
    """Map boxes from one view of each sample into another view of the same image.

    Args:
        boxes (Tensor): (N, 4) boxes shared by all samples, or (B, N, 4), in source-view
            pixels.
        src_crops, dst_crops (Tensor): (B, 4) crop boxes of the source and destination
            views in original-image pixels.
        src_size, dst_size (Sequence[int]): ``(height, width)`` of the views.
        src_flips, dst_flips (Tensor): (B,) bool, whether each source / destination
            view was mirrored after cropping (ReSim passes its shared flip twice).

    Returns:
        Tensor: (B, N, 4) boxes in destination-view pixels (or the units of the sizes).
    """
    batch = len(src_crops)
    boxes = boxes.to(src_crops).expand(batch, *boxes.shape[-2:])
    boxes = _mirror(boxes, src_size[1], src_flips)
    src_scale = (src_crops[:, 2:] - src_crops[:, :2]) / src_crops.new_tensor(src_size[::-1])
    dst_scale = (dst_crops[:, 2:] - dst_crops[:, :2]) / dst_crops.new_tensor(dst_size[::-1])
    original = src_crops[:, None, :2].repeat(1, 1, 2) + boxes * src_scale.repeat(1, 2)[:, None]
    mapped = (original - dst_crops[:, None, :2].repeat(1, 1, 2)) / dst_scale.repeat(1, 2)[:, None]
    return _mirror(mapped, dst_size[1], dst_flips)


def boxes_inside(boxes: torch.Tensor, size: Sequence[int], tolerance: float = 1e-3
                 ) -> torch.Tensor:
    """(..., 4) boxes -> (...) bool: the box lies inside a ``(height, width)`` view."""
    height, width = size
    x1, y1, x2, y2 = boxes.unbind(-1)
    return ((x1 >= -tolerance) & (y1 >= -tolerance) & (x2 <= width + tolerance)
            & (y2 <= height + tolerance))


def query_key_regions(windows: torch.Tensor, crops: torch.Tensor, flips: torch.Tensor,
                      query_size: Sequence[int], key_size: Sequence[int]
                      ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Query windows, their key-view boxes and whether each maps inside the key view.

    Args:
        windows (Tensor): (N, 4) windows in query-view pixels (:func:`sliding_windows`).
        crops (Tensor): (B, 2, 4) crop boxes of the (query, key) views in original pixels.
        flips (Tensor): (B,) bool shared flips.
        query_size, key_size (Sequence[int]): ``(height, width)`` of the views.

    Returns:
        tuple[Tensor]: query boxes (B, N, 4), key boxes (B, N, 4), valid (B, N) bool.
    """
    crops = crops.float()
    query_boxes = windows.to(crops).expand(len(crops), -1, -1)
    key_boxes = map_boxes(windows, crops[:, 0], crops[:, 1], query_size, key_size, flips,
                          flips)
    return query_boxes, key_boxes, boxes_inside(key_boxes, key_size)
