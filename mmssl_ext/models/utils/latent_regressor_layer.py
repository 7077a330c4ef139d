"""CAE's latent contextual regressor block: masked queries cross-attend to the context."""
import torch
import torch.nn as nn
from mmcv.cnn.bricks import DropPath
from mmcv.cnn.bricks.transformer import FFN
from mmengine.model import BaseModule
from mmpretrain.models.utils import build_norm_layer

from .sdpa_attention import SDPACrossMultiheadAttention


class LatentRegressorLayer(BaseModule):
    """One cross-attention block of CAE's regressor H (paper Sec. 3, reference code)::

        x = queries + drop_path(gamma_1 * attn(q=norm_q(queries + query_pos),
                                               k=norm_k(memory + memory_pos),
                                               v=norm_v(memory)))
        x = norm_cross(x)
        x = x + drop_path(gamma_2 * mlp(x))

    Position embeddings enter the queries and keys, never the values; the memory is
    the visible representations concatenated with the current queries and is not
    updated here (only the queries are returned).

    Args:
        embed_dims (int): token width C.
        num_heads (int): attention heads.
        mlp_ratio (float): MLP hidden width / C. Defaults to 4.
        qv_bias (bool): learnable q and v biases (k has none). Defaults to True.
        drop_path_rate (float): stochastic depth of both branches. Defaults to 0.
        layer_scale_init_value (float): LayerScale init; 0 disables (gammas fixed at 1).
        norm_cfg (dict): norm layers. Defaults to LayerNorm, eps 1e-6.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 mlp_ratio: float = 4.,
                 qv_bias: bool = True,
                 drop_path_rate: float = 0.,
                 layer_scale_init_value: float = 0.1,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.norm_q = build_norm_layer(norm_cfg, embed_dims)
        self.norm_k = build_norm_layer(norm_cfg, embed_dims)
        self.norm_v = build_norm_layer(norm_cfg, embed_dims)
        self.norm_cross = build_norm_layer(norm_cfg, embed_dims)
        self.cross_attn = SDPACrossMultiheadAttention(embed_dims, num_heads=num_heads,
                                                      qkv_bias=qv_bias)
        self.ffn = FFN(embed_dims=embed_dims, feedforward_channels=int(embed_dims * mlp_ratio),
                       act_cfg=dict(type='GELU'), add_identity=False)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity()
        scale = layer_scale_init_value if layer_scale_init_value > 0 else 1.
        self.gamma_1 = nn.Parameter(torch.full((embed_dims, ), scale),
                                    requires_grad=layer_scale_init_value > 0)
        self.gamma_2 = nn.Parameter(torch.full((embed_dims, ), scale),
                                    requires_grad=layer_scale_init_value > 0)

    def forward(self, queries: torch.Tensor, memory: torch.Tensor, query_pos: torch.Tensor,
                memory_pos: torch.Tensor) -> torch.Tensor:
        """Update the queries.

        Args:
            queries (Tensor): (B, Nq, C) masked-token queries.
            memory (Tensor): (B, Nk, C) visible tokens followed by the queries.
            query_pos (Tensor): (B, Nq, C) position embeddings of the queries.
            memory_pos (Tensor): (B, Nk, C) position embeddings of the memory.

        Returns:
            Tensor: (B, Nq, C) updated queries.
        """
        attended = self.cross_attn(self.norm_q(queries + query_pos),
                                   k=self.norm_k(memory + memory_pos), v=self.norm_v(memory))
        x = self.norm_cross(queries + self.drop_path(self.gamma_1 * attended))
        return x + self.drop_path(self.gamma_2 * self.ffn(x))
