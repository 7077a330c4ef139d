"""ResNet encoder for CIM that returns its last stage as a token sequence."""
from typing import Tuple

import torch
from mmpretrain.models.backbones import ResNet

from mmssl_ext.registry import MODELS


@MODELS.register_module()
class CIMResNet(ResNet):
    """mmpretrain's ResNet whose last-stage feature map becomes decoder tokens.

    The paper pre-trains ResNet-50 with CIM (Table 6) but its reference code has no
    ResNet; this is our design. The last stage (C5, stride 32) map (B, C, h, w) is
    flattened row-major into h*w tokens and its global average is prepended in the class
    slot, giving (B, 1 + h*w, C) like a ViT: a 160 px context gives 5x5 cells, a 64 px
    exemplar 2x2. The average token gives CIM's decoder a global key for the exemplar
    (the role of the ViT class token); the context's is dropped by the decoder. No
    position embedding is added here: the convolutional features are spatially ordered
    and :class:`CIMNeck` adds its 2-D sin-cos embedding to the context tokens (configure
    it with ``in_channels=2048`` for ResNet-50; a 160 px context gives a 5 x 5 grid).
    All ResNet arguments except ``out_indices`` (always the last stage) apply; the
    weights load as a plain ResNet for fine-tuning.
    """

    def __init__(self, depth: int, **kwargs) -> None:
        if 'out_indices' in kwargs:
            raise ValueError('CIMResNet always returns its last stage; do not set out_indices')
        super().__init__(depth, out_indices=(kwargs.get('num_stages', 4) - 1, ), **kwargs)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor]:
        """(B, 3, H, W) images -> ((B, 1 + h*w, C) tokens, ) with h, w = H/32, W/32."""
        feature_map = super().forward(x)[-1]  # (B, C, h, w)
        cells = feature_map.flatten(2).transpose(1, 2)  # (B, h*w, C)
        return (torch.cat([cells.mean(dim=1, keepdim=True), cells], dim=1), )
