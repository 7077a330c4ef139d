"""CAE's encoder: a BEiT-style ViT that sees only the visible patches."""
from typing import Optional

import torch
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.backbones import BEiTViT
from mmpretrain.models.utils import build_2d_sincos_position_embedding

from mmssl_ext.registry import MODELS
from ..utils.sdpa_attention import use_sdpa_attention

#: The reference's initialisation: it applies xavier_uniform to every Linear of the model.
#: The reference's truncated normal cuts at +-1 std (timm's ``trunc_normal_`` with
#: ``a=-std, b=std``): values within +-0.02 at std 0.02 (std 0.0108 in effect).
CAE_TRUNC_NORMAL = dict(std=0.02, a=-0.02, b=0.02)
CAE_INIT_CFG = [
    dict(type='Constant', val=1, layer=['LayerNorm']),
    dict(type='TruncNormal', **CAE_TRUNC_NORMAL, layer=['Conv2d']),
    dict(type='Xavier', distribution='uniform', layer=['Linear']),
]


@MODELS.register_module()
class ContextEncoderViT(BEiTViT):
    """The CAE encoder F: cls token + visible patches through a BEiT-style ViT.

    mmpretrain's :class:`BEiTViT` (q/v bias, LayerScale, final LayerNorm, same
    state-dict keys, so a pre-trained encoder loads into ``mmpretrain.BEiTViT`` for
    BEiT-protocol fine-tuning as it is), with:

    - attention through ``scaled_dot_product_attention`` (:class:`SDPABEiTAttention`);
    - a fixed 2-D sin-cos position embedding with a zero class slot (the reference's
      and mmpretrain's ``build_2d_sincos_position_embedding`` layout), not trained;
    - ``forward(x, mask)``: with a (B, N) bool ``mask`` (True = masked) only the
      visible patches are embedded and encoded, giving (B, 1 + N_visible, C); every
      image must have the same number of masked patches. ``forward(x)`` is the plain
      ``BEiTViT`` forward (``out_type`` etc.). Calling it with ``~mask`` encodes the
      masked patches instead: CAE's alignment target.

    Args:
        arch (str | dict): ViT size, as ``BEiTViT``. Defaults to 'b'.
        img_size (int): input size. Defaults to 224.
        patch_size (int): patch size. Defaults to 16.
        drop_path_rate (float): stochastic depth. Defaults to 0.1 (paper).
        layer_scale_init_value (float): LayerScale init, 0.1 for S/B, 1e-5 for L.
        bias (str | bool): ``'qv_bias'`` (default) or as ``BEiTViT``.
        norm_cfg (dict): norm layers. Defaults to LayerNorm, eps 1e-6 (reference).
        final_norm (bool): LayerNorm after the last block. Defaults to True (reference).
        use_rel_pos_bias (bool): relative position bias per block. Defaults to False
            (pre-training has none; BEiT-protocol fine-tuning adds it).
        out_type (str): output of the mask-free forward. Defaults to 'raw'.
        init_cfg (dict | list, optional): defaults to the reference's initialisation.
        **kwargs: other :class:`BEiTViT` arguments.
    """

    def __init__(self,
                 arch='b',
                 img_size: int = 224,
                 patch_size: int = 16,
                 drop_path_rate: float = 0.1,
                 layer_scale_init_value: float = 0.1,
                 bias='qv_bias',
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 final_norm: bool = True,
                 use_rel_pos_bias: bool = False,
                 out_type: str = 'raw',
                 init_cfg=CAE_INIT_CFG,
                 **kwargs) -> None:
        super().__init__(arch=arch, img_size=img_size, patch_size=patch_size,
                         drop_path_rate=drop_path_rate,
                         layer_scale_init_value=layer_scale_init_value, bias=bias,
                         norm_cfg=norm_cfg, final_norm=final_norm,
                         use_rel_pos_bias=use_rel_pos_bias, out_type=out_type,
                         with_cls_token=True,
                         use_abs_pos_emb=True, init_cfg=init_cfg, **kwargs)
        for layer in self.layers:
            use_sdpa_attention(layer)
        self.pos_embed.requires_grad_(False)

    def init_weights(self) -> None:
        """Initialise; unless loading a checkpoint, set the sin-cos table and cls token."""
        super().init_weights()
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            return
        table = build_2d_sincos_position_embedding(self.patch_resolution, self.embed_dims,
                                                   cls_token=True)
        self.pos_embed.data.copy_(table)
        trunc_normal_(self.cls_token, **CAE_TRUNC_NORMAL)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None):
        """Encode all patches (``mask=None``) or only the unmasked ones.

        Args:
            x (Tensor): (B, 3, H, W) images.
            mask (Tensor, optional): (B, N) bool, True = masked (not encoded).

        Returns:
            tuple | Tensor: ``BEiTViT``'s outputs without a mask; with one, the
            (B, 1 + N_visible, C) class + visible tokens after the final norm.
        """
        if mask is None:
            return super().forward(x)
        tokens = self.patch_embed(x)[0]  # (B, N, C)
        batch, num_patches, channels = tokens.shape
        visible = ~mask.bool()
        if mask.shape != (batch, num_patches):
            raise ValueError(f'mask must be (B, N) = {(batch, num_patches)}, '
                             f'got {tuple(mask.shape)}')
        visible_counts = visible.sum(1)
        if bool((visible_counts != visible_counts[0]).any()):
            raise ValueError('every image must have the same number of masked patches, '
                             f'got {visible_counts.tolist()} visible')
        patch_pos = self.pos_embed[:, 1:].expand(batch, -1, -1)
        visible_tokens = (tokens + patch_pos)[visible].view(batch, -1, channels)
        cls_tokens = (self.cls_token + self.pos_embed[:, :1]).expand(batch, -1, -1)
        out = self.drop_after_pos(torch.cat([cls_tokens, visible_tokens], dim=1))
        for layer in self.layers:
            out = layer(out, rel_pos_bias=None)
        return self.ln1(out) if self.final_norm else out
