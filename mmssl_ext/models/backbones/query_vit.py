"""A ViT with an optional positional-query stream (PQCL)."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.backbones.vision_transformer import TransformerEncoderLayer

from mmssl_ext.registry import MODELS
from ..utils.pos_embed import POS_RESIZE_RULES, resize_pos_table, sincos_2d_embed, sincos_2d_table


@MODELS.register_module()
class QueryViT(VisionTransformer):
    """mmpretrain's ``VisionTransformer`` with iBOT masking and PQCL query tokens.

    Without ``mask`` and ``query_coords`` :meth:`forward` is the parent's, and the
    state dict has the parent's keys plus ``mask_token``, so the weights load into
    ``VisionTransformer`` (that key is reported unexpected and ignored).

    :meth:`forward_tokens` takes two streams through the same blocks:

    - global tokens ``[cls, patches (+ mask token where masked)] + pos_embed``
      attend to global tokens only (plain self-attention);
    - query tokens ``mask_token + sincos(coords)`` (no pixels; the fixed sin-cos
      formula of the position table at the query patches' fractional coordinates)
      attend to all global tokens and to the query tokens of the same crop.

    Both streams use the same weights (ln1, qkv, proj, ln2, ffn, final norm), so the
    query stream has no parameters of its own and never changes the global tokens.
    Attention is two ``scaled_dot_product_attention`` calls per block. Drop path
    (training) draws its per-sample decisions separately for the two streams, as the
    reference.

    On another grid than the training one (the teacher's 96 px query crops: 6x6),
    :meth:`forward_tokens` resizes ``pos_embed`` with ``pos_resize``: 'scale_factor'
    (default) is the reference's bicubic ``scale_factor=(n + 0.1) / 14``, 'size'
    mmpretrain's ``size=(n, n)`` (see :func:`resize_pos_table`; the tables differ by up
    to 5.7 % per token at 6x6). :meth:`forward` is the parent's (``size`` rule).

    Args:
        fixed_pos_embed (bool): use the fixed 2-D sin-cos table (MAE layout) as
            ``pos_embed`` (not trained). Defaults to True. The query embedding
            always uses the sin-cos formula, so keep it True for PQCL.
        pos_resize (str): 'scale_factor' or 'size'. Defaults to 'scale_factor'.
        **kwargs: ``VisionTransformer`` arguments (``with_cls_token`` must stay True,
            no register tokens, ``pre_norm`` / ``final_norm`` as the parent).
    """

    def __init__(self, fixed_pos_embed: bool = True, pos_resize: str = 'scale_factor',
                 **kwargs) -> None:
        if pos_resize not in POS_RESIZE_RULES:
            raise ValueError(f'pos_resize must be one of {POS_RESIZE_RULES}, got {pos_resize!r}')
        super().__init__(**kwargs)
        self.pos_resize = pos_resize
        if self.cls_token is None or self.num_extra_tokens != 1:
            raise ValueError('QueryViT needs with_cls_token=True and no extra tokens')
        self.fixed_pos_embed = fixed_pos_embed
        if fixed_pos_embed:
            self.pos_embed.requires_grad = False
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))

    def init_weights(self) -> None:
        """Unless pretrained: DINO / iBOT's initialisation (linear weights and the class
        token ~ truncated normal std 0.02, linear biases 0, LayerNorms 1 / 0) and the
        fixed sin-cos table."""
        super().init_weights()
        if isinstance(self.init_cfg, dict) and self.init_cfg['type'] == 'Pretrained':
            return
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        if self.fixed_pos_embed:
            self.pos_embed.data.copy_(sincos_2d_table(self.patch_resolution, self.embed_dims))

    def query_embed(self, coords: torch.Tensor) -> torch.Tensor:
        """(N, Lq, 2) (x, y) coordinates in patch units -> (N, Lq, D) query tokens."""
        return self.mask_token + sincos_2d_embed(coords, self.embed_dims).to(
            self.mask_token.dtype)

    def forward_tokens(self, images: torch.Tensor, mask: Optional[torch.Tensor] = None,
                       query_coords: Optional[torch.Tensor] = None, num_query_groups: int = 1
                       ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """All output tokens after the final norm.

        Args:
            images (Tensor): (N, 3, H, W).
            mask (Tensor, optional): (N, h, w) bool, True = replace the patch
                embedding by the mask token.
            query_coords (Tensor, optional): (N, Lq, 2) query positions in the patch
                grid of ``images``; ``Lq = num_query_groups * n``, group-major.
            num_query_groups (int): query crops per image; a query token attends to
                the query tokens of its own crop only. Defaults to 1.

        Returns:
            tuple: (N, 1 + h*w, D) global tokens and (N, Lq, D) query tokens (None
            without ``query_coords``).
        """
        x, patch_resolution = self.patch_embed(images)
        if mask is not None:
            x = torch.where(mask.flatten(1).unsqueeze(-1), self.mask_token.to(x.dtype), x)
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1)
        x = x + resize_pos_table(self.pos_embed, self.patch_resolution, patch_resolution,
                                 self.pos_resize)
        x = self.pre_norm(self.drop_after_pos(x))
        if query_coords is None:
            for layer in self.layers:
                x = layer(x)
            return (self.ln1(x) if self.final_norm else x), None
        queries = self.pre_norm(self.drop_after_pos(self.query_embed(query_coords)))
        allowed = self._query_attention_mask(x.shape[1], queries.shape[1], num_query_groups,
                                             x.device)
        num_global = x.shape[1]
        tokens = torch.cat([x, queries], dim=1)
        for layer in self.layers:
            tokens = self._two_stream_layer(layer, tokens, num_global, allowed)
        if self.final_norm:
            tokens = self.ln1(tokens)
        return tokens[:, :num_global], tokens[:, num_global:]

    @staticmethod
    def _query_attention_mask(num_global: int, num_queries: int, groups: int,
                              device: torch.device) -> Optional[torch.Tensor]:
        """(Lq, L + Lq) bool, True where a query token may attend (None: everywhere)."""
        if groups == 1:
            return None
        if num_queries % groups:
            raise ValueError(f'{num_queries} query tokens do not split into '
                             f'num_query_groups={groups} crops')
        group = torch.arange(num_queries, device=device) // (num_queries // groups)
        same_crop = group[:, None] == group[None, :]
        return torch.cat([same_crop.new_ones(num_queries, num_global), same_crop], dim=1)

    @staticmethod
    def _two_stream_layer(layer: TransformerEncoderLayer, tokens: torch.Tensor,
                          num_global: int, allowed: Optional[torch.Tensor]) -> torch.Tensor:
        """One pre-norm block on (N, L + Lq, D): globals see globals, queries see all."""
        attn = layer.attn
        batch, length, dims = tokens.shape
        qkv = attn.qkv(layer.ln1(tokens)).reshape(batch, length, 3, attn.num_heads,
                                                  attn.head_dims).permute(2, 0, 3, 1, 4)
        query, key, value = qkv.unbind(0)  # (N, heads, L + Lq, head_dims) each
        dropout = attn.attn_drop if attn.training else 0.
        global_out = attn.scaled_dot_product_attention(
            query[:, :, :num_global], key[:, :, :num_global], value[:, :, :num_global],
            dropout_p=dropout)
        query_out = attn.scaled_dot_product_attention(
            query[:, :, num_global:], key, value, attn_mask=allowed, dropout_p=dropout)
        out = torch.cat([global_out, query_out], dim=2).transpose(1, 2).reshape(
            batch, length, dims)
        update = attn.gamma1(attn.proj_drop(attn.proj(out)))
        tokens = tokens + QueryViT._per_stream(attn.out_drop, update, num_global)
        ffn = layer.ffn
        update = ffn.gamma2(ffn.layers(layer.ln2(tokens)))
        return tokens + QueryViT._per_stream(ffn.dropout_layer, update, num_global)

    @staticmethod
    def _per_stream(drop_path: nn.Module, update: torch.Tensor,
                    num_global: int) -> torch.Tensor:
        """Drop path drawn separately for the global and the query tokens of each sample,
        as the reference's two residual branches (N, L + Lq, D)."""
        return torch.cat([drop_path(update[:, :num_global]), drop_path(update[:, num_global:])],
                         dim=1)
