"""CAE's attentive probe: a learned class token cross-attends to frozen patch tokens."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.utils import build_norm_layer

from mmssl_ext.registry import MODELS
from ..utils.sdpa_attention import SDPACrossMultiheadAttention


@MODELS.register_module()
class AttentiveProbeNeck(BaseModule):
    """Cross-attention unit + BatchNorm(affine=False) for attentive probing (CAE Sec. 5).

    A learned class token (not the encoder's) is the query; the keys and values are the
    encoder's output patch tokens: ``q = norm_q(query)``, ``k = norm_k(tokens)``,
    ``v = norm_v(tokens)``, one multi-head cross-attention with q/v bias and output
    projection, no MLP and no skip connection (paper). The result is normalised by a
    BatchNorm without affine parameters and fed to a linear classifier head.

    Args:
        in_channels (int): token width C.
        num_heads (int): attention heads. Defaults to 12.
        use_cls_token (bool): also attend to the encoder's class token (the reference
            code does; the paper says patch tokens). Defaults to False.
        norm_cfg (dict): LayerNorms of q, k, v. Defaults to LayerNorm, eps 1e-6.
    """

    def __init__(self, in_channels: int, num_heads: int = 12, use_cls_token: bool = False,
                 norm_cfg: dict = dict(type='LN', eps=1e-6), init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.use_cls_token = use_cls_token
        self.query_token = nn.Parameter(torch.zeros(1, 1, in_channels))
        self.norm_q = build_norm_layer(norm_cfg, in_channels)
        self.norm_k = build_norm_layer(norm_cfg, in_channels)
        self.norm_v = build_norm_layer(norm_cfg, in_channels)
        self.cross_attn = SDPACrossMultiheadAttention(in_channels, num_heads=num_heads,
                                                      qkv_bias=True)
        self.bn = nn.BatchNorm1d(in_channels, affine=False, eps=1e-6)

    def init_weights(self) -> None:
        super().init_weights()
        trunc_normal_(self.query_token, std=.02)

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Last backbone output (B, 1 + N, C) (``out_type='raw'``) -> ((B, C), )."""
        tokens = inputs[-1]
        if tokens.dim() != 3:
            raise ValueError('AttentiveProbeNeck needs (B, 1 + N, C) tokens: build the '
                             f"backbone with out_type='raw', got {tuple(tokens.shape)}")
        if not self.use_cls_token:
            tokens = tokens[:, 1:]
        query = self.norm_q(self.query_token.expand(len(tokens), -1, -1))
        pooled = self.cross_attn(query, k=self.norm_k(tokens), v=self.norm_v(tokens))
        return (self.bn(pooled[:, 0]), )
