"""mmpretrain's BEiT-style attention modules run by PyTorch's SDPA kernel."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmpretrain.models.backbones.beit import BEiTTransformerEncoderLayer
from mmpretrain.models.utils import BEiTAttention, CrossMultiheadAttention


class SDPABEiTAttention(BEiTAttention):
    """:class:`BEiTAttention` (q/v bias, optional relative position bias) through
    :func:`torch.nn.functional.scaled_dot_product_attention`.

    Same parameters, buffers and state-dict keys as ``BEiTAttention``; only the
    forward differs: the relative position bias enters SDPA as an additive mask, so
    fused (flash / memory-efficient) kernels are used and the (B, heads, N, N) score
    matrix is not kept for backward when no bias is present.
    """

    def forward(self, x: torch.Tensor, rel_pos_bias: Optional[torch.Tensor] = None
                ) -> torch.Tensor:
        """(B, N, C) tokens [+ (heads, N, N) shared bias] -> (B, N, C)."""
        batch, num_tokens, channels = x.shape
        if self.bias == 'qv_bias':
            bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        else:
            bias = self.qkv.bias
        qkv = F.linear(x, self.qkv.weight, bias)
        q, k, v = qkv.view(batch, num_tokens, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        attn_bias = None
        if self.relative_position_bias_table is not None:
            attn_bias = self.relative_position_bias_table[
                self.relative_position_index.view(-1)].view(num_tokens, num_tokens,
                                                            -1).permute(2, 0, 1)
        if rel_pos_bias is not None:
            attn_bias = rel_pos_bias if attn_bias is None else attn_bias + rel_pos_bias
        if attn_bias is not None:
            attn_bias = attn_bias.unsqueeze(0).to(q.dtype)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_bias, scale=self.scale,
            dropout_p=self.attn_drop.p if self.training else 0.)
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(batch, num_tokens,
                                                                     channels)))


class SDPACrossMultiheadAttention(CrossMultiheadAttention):
    """:class:`CrossMultiheadAttention` (separate q / k / v inputs, q/v bias) through
    :func:`torch.nn.functional.scaled_dot_product_attention`; same state-dict keys."""

    def forward(self, x: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """(B, Nq, C) queries, (B, Nk, C) keys and values -> (B, Nq, C)."""
        batch, num_queries, channels = x.shape
        k_bias = None if self.q_bias is None else torch.zeros_like(self.v_bias)

        def heads(tokens: torch.Tensor) -> torch.Tensor:
            return tokens.view(batch, tokens.shape[1], self.num_heads, -1).transpose(1, 2)

        q = heads(F.linear(x, self.q.weight, self.q_bias))
        k = heads(F.linear(k, self.k.weight, k_bias))
        v = heads(F.linear(v, self.v.weight, self.v_bias))
        out = F.scaled_dot_product_attention(
            q, k, v, scale=self.scale, dropout_p=self.attn_drop.p if self.training else 0.)
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(batch, num_queries,
                                                                     channels)))


def use_sdpa_attention(layer: BEiTTransformerEncoderLayer) -> BEiTTransformerEncoderLayer:
    """Give a freshly built BEiT layer an :class:`SDPABEiTAttention` with its settings.

    Called before any weights are loaded; the new attention is initialised like the
    one it replaces.
    """
    attn = layer.attn
    layer.attn = SDPABEiTAttention(
        embed_dims=attn.embed_dims,
        num_heads=attn.num_heads,
        window_size=attn.window_size,
        use_rel_pos_bias=attn.use_rel_pos_bias,
        bias=attn.bias,
        qk_scale=attn.scale,
        attn_drop_rate=attn.attn_drop.p,
        proj_drop_rate=attn.proj_drop.p)
    return layer


def sdpa_beit_layer(**layer_cfg) -> BEiTTransformerEncoderLayer:
    """Build a :class:`BEiTTransformerEncoderLayer` (same arguments) with SDPA attention."""
    return use_sdpa_attention(BEiTTransformerEncoderLayer(**layer_cfg))
