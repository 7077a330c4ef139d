"""Multi-scale features from a plain ViT, for detection / segmentation transfer."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule

from mmssl_ext.registry import MODELS, register_downstream


@register_downstream('MODELS')
@MODELS.register_module()
class ViTFeaturePyramid(BaseModule):
    """Stride-4/8/16/32 feature maps from four stride-16 ViT block outputs.

    The BEiT / CAE / iBOT transfer recipe: the outputs of blocks (3, 5, 7, 11)
    (``VisionTransformer(out_indices=(3, 5, 7, 11), out_type='featmap')``) are
    rescaled by 4x (two 2x2 stride-2 transposed convolutions with norm + GELU between),
    2x (one transposed convolution), 1x (identity) and 0.5x (2x2 max-pool). Feed the
    result to mmdet's ``FPN`` (``neck=[dict(type='ViTFeaturePyramid'), dict(type='FPN',
    in_channels=[C] * 4, ...)]``) or to a segmentation head.

    Args:
        embed_dims (int): ViT width C. Defaults to 768.
        norm_cfg (dict): norm between the two 4x deconvolutions. Defaults to BN
            (use SyncBN for multi-GPU training, as BEiT / CAE do).
        init_cfg (dict, optional): mmengine initialisation config.
    """

    def __init__(self, embed_dims: int = 768, norm_cfg: dict = dict(type='BN'),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims <= 0:
            raise ValueError(f'embed_dims must be positive, got {embed_dims}')
        self.up4 = nn.Sequential(
            nn.ConvTranspose2d(embed_dims, embed_dims, kernel_size=2, stride=2),
            build_norm_layer(norm_cfg, embed_dims)[1],
            nn.GELU(),
            nn.ConvTranspose2d(embed_dims, embed_dims, kernel_size=2, stride=2))
        self.up2 = nn.ConvTranspose2d(embed_dims, embed_dims, kernel_size=2, stride=2)
        self.down2 = nn.MaxPool2d(kernel_size=2, stride=2)

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        """Four (B, C, H/16, W/16) maps -> (B, C, H/4, W/4), ..., (B, C, H/32, W/32)."""
        if len(inputs) != 4:
            raise ValueError(f'ViTFeaturePyramid needs 4 feature maps, got {len(inputs)}')
        return (self.up4(inputs[0]), self.up2(inputs[1]), inputs[2], self.down2(inputs[3]))
