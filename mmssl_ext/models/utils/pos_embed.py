"""Fixed 2-D sin-cos position embeddings (MAE's layout)."""
from typing import Sequence

import torch
import torch.nn.functional as F


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


POS_RESIZE_RULES = ('scale_factor', 'size')


def resize_pos_table(pos_embed: torch.Tensor, src_shape: Sequence[int],
                     dst_shape: Sequence[int], rule: str = 'scale_factor',
                     num_extra_tokens: int = 1) -> torch.Tensor:
    """Bicubic resize of a position table to another token grid.

    ``rule='scale_factor'``: DINO's rule, which the CIM and PQCL reference code use:
    ``F.interpolate(scale_factor=((h + 0.1) / H, (w + 0.1) / W))``. The kernel is
    placed with that scale, not with ``H / h``, so the resized table is not the one
    ``size=(h, w)`` gives (up to 4 % apart at 14 -> 4). ``rule='size'``: mmpretrain's
    ``resize_pos_embed`` (``size=(h, w)``). An unchanged grid returns the table as is.

    Args:
        pos_embed (Tensor): (1, E + H*W, D) table, E = ``num_extra_tokens`` first.
        src_shape (Sequence[int]): (H, W) grid of the table.
        dst_shape (Sequence[int]): (h, w) grid wanted.
        rule (str): 'scale_factor' or 'size'. Defaults to 'scale_factor'.
        num_extra_tokens (int): leading tokens kept as they are. Defaults to 1.

    Returns:
        Tensor: (1, E + h*w, D) table in the dtype of ``pos_embed``.
    """
    if rule not in POS_RESIZE_RULES:
        raise ValueError(f'rule must be one of {POS_RESIZE_RULES}, got {rule!r}')
    src_h, src_w = src_shape
    dst_h, dst_w = dst_shape
    if (src_h, src_w) == (dst_h, dst_w):
        return pos_embed
    if pos_embed.shape[1] != num_extra_tokens + src_h * src_w:
        raise ValueError(f'pos_embed {tuple(pos_embed.shape)} does not hold '
                         f'{num_extra_tokens} + {src_h}x{src_w} tokens')
    grid = pos_embed[:, num_extra_tokens:].reshape(1, src_h, src_w, -1).permute(0, 3, 1, 2)
    if rule == 'size':
        resized = F.interpolate(grid.float(), size=(dst_h, dst_w), mode='bicubic',
                                align_corners=False)
    else:
        resized = F.interpolate(grid.float(), mode='bicubic', align_corners=False,
                                scale_factor=((dst_h + 0.1) / src_h, (dst_w + 0.1) / src_w))
    resized = resized.flatten(2).transpose(1, 2).to(pos_embed.dtype)
    return torch.cat([pos_embed[:, :num_extra_tokens], resized], dim=1)
