"""Where a query crop's patches lie in a global view's patch grid (PQCL)."""
from typing import Sequence, Tuple

import torch

from .region_windows import map_boxes


def query_patch_coords(query_box: Sequence[float], global_box: Sequence[float],
                       global_flipped: bool, global_grid: Tuple[int, int],
                       query_grid: Tuple[int, int]) -> torch.Tensor:
    """Coordinates of every query patch in a global view's patch units.

    Boxes are (top, left, height, width) in pixels of the original image. A patch
    ``(r, c)`` of a grid covers ``[c, c + 1) x [r, r + 1)`` and is embedded at its
    corner ``(c, r)``, as the fixed sin-cos table of the backbone. With ``k_x = g_w /
    W`` original pixels per global patch, query column ``j`` starts at ``x_j = (q_left
    - g_left) / k_x + j * s_x`` with ``s_x = (q_w / w_q) / k_x`` (same for rows). If the
    global view was flipped horizontally after cropping, the interval ``[x_j, x_j +
    s_x)`` is mirrored to ``[W - x_j - s_x, W - x_j)``. Coordinates may be fractional
    and lie outside ``[0, W)`` when the query crop is not inside the global view.

    Args:
        query_box, global_box (Sequence[float]): (top, left, height, width).
        global_flipped (bool): whether the global view was flipped horizontally.
        global_grid (tuple[int, int]): (H, W) patch grid of the global view.
        query_grid (tuple[int, int]): (h_q, w_q) patch grid of the query crop.

    Returns:
        Tensor: (h_q * w_q, 2) float32 (x, y) per query patch, row-major.
    """
    rows, cols = query_grid
    ys, xs = torch.meshgrid(torch.arange(rows, dtype=torch.float64),
                            torch.arange(cols, dtype=torch.float64), indexing='ij')
    patches = torch.stack([xs, ys, xs + 1, ys + 1], -1).reshape(-1, 4)  # query patch units

    def crop(box: Sequence[float]) -> torch.Tensor:  # (top, left, h, w) -> (1, 4) x1y1x2y2
        top, left, height, width = map(float, box)
        return torch.tensor([[left, top, left + width, top + height]], dtype=torch.float64)

    mapped = map_boxes(patches, crop(query_box), crop(global_box), query_grid, global_grid,
                       torch.tensor([False]), torch.tensor([bool(global_flipped)]))
    return mapped[0, :, :2].float()
