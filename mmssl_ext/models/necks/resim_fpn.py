"""ReSim-FPN's top-down path over ResNet C3-C5."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmssl_ext.registry import MODELS


@MODELS.register_module()
class ReSimFPN(BaseModule):
    """FPN top-down path (Lin et al.) producing the levels ReSim compares regions on.

    ``lateral_convs.i`` (1x1) maps input level i to ``out_channels``; going from the
    coarsest level down, each lateral is added to the nearest-2x-upsampled sum of the
    levels above; ``output_convs.j`` (3x3) smooths the ``j``-th level of
    ``out_indices``. With C3-C5 inputs and ``out_indices=(0, 1)`` the outputs are P3 and
    P4 (ReSim-FPN; P5 is only used inside the top-down path, as the reference). The
    module names map onto mmdet's FPN (``neck.lateral_convs.*.conv``,
    ``neck.fpn_convs.*.conv``): see :mod:`mmssl_ext.converters.resim`.

    Args:
        in_channels (Sequence[int]): channels of the input levels, finest first.
            Defaults to (512, 1024, 2048) (ResNet-50 C3, C4, C5).
        out_channels (int): FPN width. Defaults to 256.
        out_indices (Sequence[int]): levels to output, finest first. Defaults to (0, 1).
        init_cfg (dict, optional): defaults to Xavier-uniform convs (as mmdet's FPN).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (512, 1024, 2048),
                 out_channels: int = 256,
                 out_indices: Sequence[int] = (0, 1),
                 init_cfg: Optional[dict] = dict(type='Xavier', layer='Conv2d',
                                                 distribution='uniform')) -> None:
        super().__init__(init_cfg)
        if not out_indices or any(not 0 <= i < len(in_channels) for i in out_indices) \
                or list(out_indices) != sorted(set(out_indices)):
            raise ValueError(f'out_indices must be increasing indices into the '
                             f'{len(in_channels)} input levels, got {out_indices}')
        self.out_indices = tuple(out_indices)
        self.lateral_convs = nn.ModuleList(
            nn.Conv2d(channels, out_channels, 1) for channels in in_channels)
        self.output_convs = nn.ModuleList(
            nn.Conv2d(out_channels, out_channels, 3, padding=1) for _ in out_indices)

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        """(B, C_i, H_i, W_i) levels, finest first -> (B, out_channels, H_j, W_j) for
        each of ``out_indices``."""
        if len(inputs) != len(self.lateral_convs):
            raise ValueError(f'expected {len(self.lateral_convs)} levels, got {len(inputs)}')
        merged = [self.lateral_convs[-1](inputs[-1])]
        for lateral, level in zip(self.lateral_convs[-2::-1], inputs[-2::-1]):
            top_down = F.interpolate(merged[0], size=level.shape[-2:], mode='nearest')
            merged.insert(0, lateral(level) + top_down)
        return tuple(conv(merged[i]) for conv, i in zip(self.output_convs, self.out_indices))
