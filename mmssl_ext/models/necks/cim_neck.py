"""CIM correlation decoder: cross-attention of context tokens over exemplar tokens."""
import math
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule, ModuleList
from mmpretrain.models.utils import build_norm_layer

from mmssl_ext.registry import MODELS
from ..utils.cross_attention import CrossAttentionBlock
from ..utils.pos_embed import sincos_2d_table


@MODELS.register_module()
class CIMNeck(BaseModule):
    """Correlation decoder of CIM: predicts where each exemplar lies in its context.

    For every (image b, exemplar n) pair independently:

    1. a Linear(in_channels -> embed_dims) shared by both streams embeds the context
       tokens (B, 1 + hc*wc, in_channels) and the exemplar tokens (1 + he*we of them);
    2. a fixed 2-D sin-cos position embedding of the context grid (zero in the class
       slot) is added to the context stream only. The grid (hc, wc) is derived from the
       inputs: hc * wc context tokens covering the (Hc, Wc) context image, e.g. 10 x 10
       for a 160 px context and 16 px patches, 5 x 5 for ResNet C5 (so the context size
       is configured once, in the data pipeline);
    3. ``depth`` pre-norm cross-attention blocks (:class:`CrossAttentionBlock`: queries =
       context tokens, keys/values = the tokens of exemplar n of image b, one norm shared
       by both) followed by a final norm;
    4. the class token is dropped, the hc x wc tokens become a (embed_dims, hc, wc) map,
       a 1x1 convolution (linear predictor) gives 2 logits (background, exemplar) per
       cell, bilinearly upsampled (``align_corners=True``) to the context resolution.

    The B*N pairs run as one batch: each image's context tokens are repeated for its N
    exemplars. Queries never attend to each other, so the context class token (a query
    like the others, dropped at the end) does not influence the map.

    Initialisation follows the reference: xavier-uniform Linear weights with zero bias,
    and the predictor drawn from N(0, 2 / fan_out) (fan_out = 2).

    Args:
        in_channels (int): encoder token width. Defaults to 768 (ViT-B).
        embed_dims (int): decoder width. Defaults to 512.
        num_heads (int): attention heads. Defaults to 16.
        depth (int): number of cross-attention blocks. Defaults to 1.
        mlp_ratio (float): MLP hidden width / embed_dims. Defaults to 4.
        norm_cfg (dict): normalisation layer. Defaults to LayerNorm with eps 1e-6.
        init_cfg (dict, optional): mmengine initialisation config.
    """

    def __init__(self,
                 in_channels: int = 768,
                 embed_dims: int = 512,
                 num_heads: int = 16,
                 depth: int = 1,
                 mlp_ratio: float = 4.,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if embed_dims % 4 != 0:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible by 4 for the 2-D '
                             'sin-cos position embedding')
        if depth < 1:
            raise ValueError(f'depth must be >= 1, got {depth}')
        self.embed_dims = embed_dims
        self.embed = nn.Linear(in_channels, embed_dims)
        self.register_buffer('pos_embed', torch.zeros(0), persistent=False)  # per grid
        self.blocks = ModuleList(
            CrossAttentionBlock(embed_dims, num_heads, mlp_ratio=mlp_ratio, norm_cfg=norm_cfg)
            for _ in range(depth))
        self.norm = build_norm_layer(norm_cfg, embed_dims)
        self.predictor = nn.Conv2d(embed_dims, 2, kernel_size=1)

    def init_weights(self) -> None:
        super().init_weights()
        if self.init_cfg is not None:
            return
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        nn.init.kaiming_normal_(self.predictor.weight, mode='fan_out', nonlinearity='relu')

    @staticmethod
    def context_grid(num_cells: int, image_size: Sequence[int]) -> Tuple[int, int]:
        """(hc, wc) of ``num_cells`` tokens tiling an (Hc, Wc) image with (nearly)
        square cells (a ViT's patches, a ResNet's C5 cells)."""
        height, width = image_size
        grid_h = max(1, round(math.sqrt(num_cells * height / width)))
        grid_w = num_cells // grid_h
        cells = sorted((height / grid_h, width / max(grid_w, 1)))
        if num_cells < 1 or num_cells % grid_h or cells[1] > 1.5 * cells[0]:
            raise ValueError(f'{num_cells} context tokens do not tile a {height} x {width} '
                             'context with square cells')
        return grid_h, grid_w

    def position_table(self, grid_h: int, grid_w: int) -> torch.Tensor:
        """(1, 1 + hc*wc, embed_dims) sin-cos table of the grid (zero class slot),
        cached while the grid does not change."""
        if self.pos_embed.shape[1:2] != (1 + grid_h * grid_w, ):
            self.pos_embed = sincos_2d_table((grid_h, grid_w), self.embed_dims,
                                             cls_token=True).to(self.embed.weight.device)
        return self.pos_embed

    def forward(self, context_tokens: torch.Tensor, exemplar_tokens: torch.Tensor,
                output_size: Tuple[int, int]) -> torch.Tensor:
        """Predict correlation logits.

        Args:
            context_tokens (Tensor): (B, 1 + hc*wc, in_channels) target-encoder tokens.
            exemplar_tokens (Tensor): (B, N, 1 + he*we, in_channels) online-encoder tokens.
            output_size (tuple[int, int]): (Hc, Wc) context image size.

        Returns:
            Tensor: (B, N, 2, Hc, Wc) logits; channel 1 is "inside the exemplar".
        """
        batch, num_exemplars = exemplar_tokens.shape[:2]
        grid_h, grid_w = self.context_grid(context_tokens.shape[1] - 1, output_size)
        context = self.embed(context_tokens) + self.position_table(grid_h, grid_w)
        queries = context.repeat_interleave(num_exemplars, dim=0)  # (B*N, 1 + hc*wc, D)
        memory = self.embed(exemplar_tokens.flatten(0, 1))  # (B*N, 1 + he*we, D)
        for block in self.blocks:
            queries = block(queries, memory)
        cells = self.norm(queries)[:, 1:]  # (B*N, hc*wc, D)
        feature_map = cells.transpose(1, 2).unflatten(2, (grid_h, grid_w))
        logits = F.interpolate(self.predictor(feature_map), size=tuple(output_size),
                               mode='bilinear', align_corners=True)
        return logits.unflatten(0, (batch, num_exemplars))
