"""Cross-attention: queries from one token sequence, keys and values from another."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks.transformer import FFN
from mmengine.model import BaseModule
from mmpretrain.models.utils import build_norm_layer


class CrossAttention(nn.Module):
    """Multi-head attention of ``queries`` over a separate ``memory`` sequence.

    ``softmax(q k^T / sqrt(head_dims)) v`` per head, through
    :func:`torch.nn.functional.scaled_dot_product_attention`, with ``q`` projected from
    the queries and ``k, v`` from the memory, then an output projection.

    Args:
        embed_dims (int): token width C of queries, memory and output.
        num_heads (int): number of heads; must divide ``embed_dims``.
        qkv_bias (bool): bias in the q and kv projections. Defaults to True.
    """

    def __init__(self, embed_dims: int, num_heads: int, qkv_bias: bool = True) -> None:
        super().__init__()
        if embed_dims % num_heads != 0:
            raise ValueError(f'num_heads ({num_heads}) must divide embed_dims ({embed_dims})')
        self.num_heads = num_heads
        self.q = nn.Linear(embed_dims, embed_dims, bias=qkv_bias)
        self.kv = nn.Linear(embed_dims, 2 * embed_dims, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, queries: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """(B, Nq, C) queries attend over (B, Nk, C) memory -> (B, Nq, C)."""
        batch, num_queries, channels = queries.shape
        head_dims = channels // self.num_heads
        q = self.q(queries).view(batch, num_queries, self.num_heads, head_dims).transpose(1, 2)
        k, v = self.kv(memory).view(batch, -1, 2, self.num_heads, head_dims).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)  # (B, heads, Nq, head_dims)
        return self.proj(out.transpose(1, 2).reshape(batch, num_queries, channels))


class CrossAttentionBlock(BaseModule):
    """Pre-norm transformer block whose attention is cross-attention.

    ``x = x + attn(norm1(x), norm1(memory)); x = x + mlp(norm2(x))``: the SAME ``norm1``
    normalises the queries and the memory (CIM's correlation block). No
    self-attention: every query token is updated independently of the other queries.

    Args:
        embed_dims (int): token width C.
        num_heads (int): attention heads.
        mlp_ratio (float): hidden width of the MLP as a multiple of C. Defaults to 4.
        qkv_bias (bool): bias in the q and kv projections. Defaults to True.
        norm_cfg (dict): normalisation layer. Defaults to LayerNorm with eps 1e-6.
        init_cfg (dict, optional): mmengine initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.norm1 = build_norm_layer(norm_cfg, embed_dims)
        self.attn = CrossAttention(embed_dims, num_heads, qkv_bias=qkv_bias)
        self.norm2 = build_norm_layer(norm_cfg, embed_dims)
        self.ffn = FFN(embed_dims=embed_dims,
                       feedforward_channels=int(embed_dims * mlp_ratio),
                       act_cfg=dict(type='GELU'))

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """(B, Nq, C) queries, (B, Nk, C) memory -> (B, Nq, C) updated queries."""
        x = x + self.attn(self.norm1(x), self.norm1(memory))
        return self.ffn(self.norm2(x), identity=x)
