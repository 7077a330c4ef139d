"""Fixed 2-D sin-cos position embeddings (MAE's layout)."""
from typing import Sequence

import torch


def sincos_2d_table(grid: Sequence[int], embed_dims: int, cls_token: bool = True,
                    temperature: float = 10000.) -> torch.Tensor:
    """MAE's fixed 2-D sin-cos table, as the CIM / CAE / iBOT reference code builds it.

    Tokens are in row-major order; each token's features are ``[sin(x w), cos(x w),
    sin(y w), cos(y w)]`` with x the column, y the row and ``w = temperature **
    (-k / (D / 4))``, k < D / 4. (mmpretrain's ``build_2d_sincos_position_embedding``
    orders its tokens column-major, i.e. the grid transpose of this table.)

    Args:
        grid (Sequence[int]): (h, w) of the token grid.
        embed_dims (int): D, divisible by 4.
        cls_token (bool): prepend an all-zero class-token slot. Defaults to True.

    Returns:
        Tensor: (1, [1 +] h*w, D) float32 table.
    """
    height, width = grid
    rows, cols = torch.meshgrid(torch.arange(height, dtype=torch.float64),
                                torch.arange(width, dtype=torch.float64), indexing='ij')
    table = sincos_2d_embed(torch.stack([cols, rows], -1).reshape(-1, 2), embed_dims,
                            temperature)  # (h*w, D) float64
    if cls_token:
        table = torch.cat([table.new_zeros(1, embed_dims), table])
    return table.float()[None]


def sincos_2d_embed(coords: torch.Tensor, embed_dims: int,
                    temperature: float = 10000.) -> torch.Tensor:
    """The formula of :func:`sincos_2d_table` at arbitrary (fractional) coordinates.

    ``sincos_2d_table((h, w), D, cls_token=False)[0, r * w + c]`` equals
    ``sincos_2d_embed(tensor([c, r]), D)``.

    Args:
        coords (Tensor): (..., 2) positions (x = column, y = row) in patch units.
        embed_dims (int): D, divisible by 4.
        temperature (float): frequency base. Defaults to 10000.

    Returns:
        Tensor: (..., D) embeddings in the dtype of ``coords`` (computed in float64).
    """
    if embed_dims % 4:
        raise ValueError(f'embed_dims must be divisible by 4, got {embed_dims}')
    if coords.shape[-1] != 2:
        raise ValueError(f'coords must end with (x, y), got shape {tuple(coords.shape)}')
    quarter = embed_dims // 4
    omega = temperature**(-torch.arange(quarter, dtype=torch.float64,
                                        device=coords.device) / quarter)
    angles = coords.double()[..., None] * omega  # (..., 2, D / 4)
    embed = torch.cat([angles.sin(), angles.cos()], dim=-1)  # (..., 2, D / 2)
    return embed.flatten(-2).to(coords.dtype)
