"""CAE's latent contextual regressor H and decoder G."""
from typing import Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.utils import build_2d_sincos_position_embedding, build_norm_layer

from mmssl_ext.registry import MODELS
from ..backbones.context_encoder_vit import CAE_INIT_CFG, CAE_TRUNC_NORMAL
from ..utils.latent_regressor_layer import LatentRegressorLayer
from ..utils.sdpa_attention import sdpa_beit_layer


@MODELS.register_module()
class CAERegressorDecoder(BaseModule):
    """Predict the masked patches' representations, then their reconstruction targets.

    Regressor: a learned mask token at each masked position is refined by
    ``regressor_depth`` :class:`LatentRegressorLayer` blocks that cross-attend to the
    visible representations (never updated) and the current queries; a LayerNorm gives
    the latent predictions Z_m. Decoder: Z_m plus the masked positions' embeddings go
    through ``decoder_depth`` self-attention blocks over the masked tokens only, a
    LayerNorm and a linear predictor (8192 token logits for DALL-E targets, or
    ``patch_size**2 * 3`` pixels). Position embeddings are the fixed 2-D sin-cos table
    of the encoder's grid (the reference's ``rd_pos_embed``).

    Args:
        num_patches_side (int | Sequence[int]): patch grid (h, w). Defaults to 14.
        embed_dims (int): width C, equal to the encoder's. Defaults to 768.
        num_heads (int): heads of every block. Defaults to 12.
        out_channels (int): predictor outputs per masked patch. Defaults to 8192.
        regressor_depth (int): cross-attention blocks. Defaults to 4 (paper).
        decoder_depth (int): self-attention blocks. Defaults to 4 (paper).
        mlp_ratio (float): MLP hidden width / C. Defaults to 4.
        drop_path_rate (float): stochastic depth, linear over each stack's blocks.
            Defaults to 0.1 (the reference passes the encoder's rate).
        layer_scale_init_value (float): LayerScale init of all blocks. Defaults to 0.1.
        norm_cfg (dict): norm layers. Defaults to LayerNorm, eps 1e-6.
        init_cfg (dict | list, optional): defaults to the reference's initialisation.
    """

    def __init__(self,
                 num_patches_side: Union[int, Sequence[int]] = 14,
                 embed_dims: int = 768,
                 num_heads: int = 12,
                 out_channels: int = 8192,
                 regressor_depth: int = 4,
                 decoder_depth: int = 4,
                 mlp_ratio: float = 4.,
                 drop_path_rate: float = 0.1,
                 layer_scale_init_value: float = 0.1,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 init_cfg=CAE_INIT_CFG) -> None:
        super().__init__(init_cfg=init_cfg)
        for name, value in (('regressor_depth', regressor_depth),
                            ('decoder_depth', decoder_depth), ('out_channels', out_channels)):
            if value < 1:
                raise ValueError(f'{name} must be >= 1, got {value}')
        grid = (num_patches_side, ) * 2 if isinstance(num_patches_side, int) \
            else tuple(num_patches_side)
        self.register_buffer(
            'pos_embed', build_2d_sincos_position_embedding(grid, embed_dims, cls_token=False),
            persistent=False)  # (1, N, C)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.regressor_layers = nn.ModuleList([
            LatentRegressorLayer(embed_dims, num_heads, mlp_ratio=mlp_ratio,
                                 drop_path_rate=rate,
                                 layer_scale_init_value=layer_scale_init_value,
                                 norm_cfg=norm_cfg)
            for rate in np.linspace(0, drop_path_rate, regressor_depth).tolist()
        ])
        self.regressor_norm = build_norm_layer(norm_cfg, embed_dims)
        self.decoder_layers = nn.ModuleList([
            sdpa_beit_layer(embed_dims=embed_dims, num_heads=num_heads,
                            feedforward_channels=int(embed_dims * mlp_ratio),
                            layer_scale_init_value=layer_scale_init_value, window_size=None,
                            use_rel_pos_bias=False, drop_path_rate=rate, norm_cfg=norm_cfg)
            for rate in np.linspace(0, drop_path_rate, decoder_depth).tolist()
        ])
        self.decoder_norm = build_norm_layer(norm_cfg, embed_dims)
        self.predictor = nn.Linear(embed_dims, out_channels)

    def init_weights(self) -> None:
        super().init_weights()
        trunc_normal_(self.mask_token, **CAE_TRUNC_NORMAL)

    def forward(self, visible_tokens: torch.Tensor,
                mask: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Regress and decode the masked patches.

        Args:
            visible_tokens (Tensor): (B, N_visible, C) encoder outputs of the visible
                patches in raster order (class token removed).
            mask (Tensor): (B, N) bool, True = masked; the same count in every image.

        Returns:
            tuple[Tensor, Tensor]: latent predictions Z_m (B, N_masked, C) and
            predictor outputs (B, N_masked, out_channels), masked patches in raster
            order.
        """
        batch, num_visible, channels = visible_tokens.shape
        if mask.shape != (batch, self.pos_embed.shape[1]):
            raise ValueError(f'mask must be (B, N) = {(batch, self.pos_embed.shape[1])}, '
                             f'got {tuple(mask.shape)}')
        pos_embed = self.pos_embed.to(visible_tokens.dtype).expand(batch, -1, -1)
        masked_pos = pos_embed[mask].view(batch, -1, channels)
        visible_pos = pos_embed[~mask].view(batch, num_visible, channels)
        memory_pos = torch.cat([visible_pos, masked_pos], dim=1)
        queries = self.mask_token.expand(batch, masked_pos.shape[1], -1)
        for layer in self.regressor_layers:
            queries = layer(queries, torch.cat([visible_tokens, queries], dim=1), masked_pos,
                            memory_pos)
        latent_predictions = self.regressor_norm(queries)
        decoded = latent_predictions + masked_pos
        for layer in self.decoder_layers:
            decoded = layer(decoded, rel_pos_bias=None)
        return latent_predictions, self.predictor(self.decoder_norm(decoded))
