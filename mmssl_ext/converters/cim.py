"""CIM checkpoints: the reference release -> mmssl_ext, and -> backbone only.

The reference release (weivision/Correlational-Image-Modeling, ``{'model': ...}``)
holds the online encoder (``cls_token, pos_embed, patch_embed.proj, blocks.i, norm``),
the target encoder (``patch_embed_c, blocks_c.i, norm_c``; it shares ``cls_token`` and
``pos_embed`` with the online one), the decoder (``decoder_embed``,
``decoder_corr_block.block.*``, ``decoder_norm``, ``decoder_pred_mask.0``; its
``decoder_pos_embed`` is a fixed sin-cos table that :class:`CIMNeck` recomputes) and an
unused contrastive branch (``decoder_g_embed*``, ``decoder_predictor``), which is
reported, not converted.
"""
from typing import Dict, Tuple

import torch

from .common import ConversionReport, strip_prefix, timm_vit_to_mmpretrain

DECODER_KEYS = (
    ('decoder_embed.', 'neck.embed.'),
    ('decoder_corr_block.block.norm1.', 'neck.blocks.0.norm1.'),
    ('decoder_corr_block.block.attn.q.', 'neck.blocks.0.attn.q.'),
    ('decoder_corr_block.block.attn.kv.', 'neck.blocks.0.attn.kv.'),
    ('decoder_corr_block.block.attn.proj.', 'neck.blocks.0.attn.proj.'),
    ('decoder_corr_block.block.norm2.', 'neck.blocks.0.norm2.'),
    ('decoder_corr_block.block.mlp.fc1.', 'neck.blocks.0.ffn.layers.0.0.'),
    ('decoder_corr_block.block.mlp.fc2.', 'neck.blocks.0.ffn.layers.1.'),
    ('decoder_norm.', 'neck.norm.'),
    ('decoder_pred_mask.0.', 'neck.predictor.'),
)
RECOMPUTED = ('decoder_pos_embed',)


def cim_official_to_mmssl(state_dict: Dict[str, torch.Tensor]
                          ) -> Tuple[Dict[str, torch.Tensor], ConversionReport]:
    """Convert the reference CIM state dict into an mmssl_ext ``CIM`` state dict.

    The result loads strictly into ``CIM`` (MoCoV3ViT encoders + CIMNeck + CIMHead)
    and continues pre-training: its EMA target counts as initialised (``steps = 1``).
    """
    online = timm_vit_to_mmpretrain(state_dict, '', 'backbone.')
    target = timm_vit_to_mmpretrain(state_dict, '', 'target_encoder.module.',
                                    block_name='blocks_c', patch_embed='patch_embed_c',
                                    norm='norm_c')
    decoder = {}
    for key, value in state_dict.items():
        for old, new in DECODER_KEYS:
            if key.startswith(old):
                decoder[new + key[len(old):]] = value
    converted = {**online, **target, **decoder,
                 'target_encoder.steps': torch.tensor(1, dtype=torch.long)}
    used = set()
    for key in state_dict:
        if (key.startswith(('blocks.', 'blocks_c.', 'patch_embed.', 'patch_embed_c.',
                            'norm.', 'norm_c.')) or key in ('cls_token', 'pos_embed')
                or any(key.startswith(old) for old, _ in DECODER_KEYS)):
            used.add(key)
    report = ConversionReport(converted=len(converted) - 1,
                              unused=sorted(k for k in state_dict if k not in used))
    return converted, report


def cim_to_backbone(state_dict: Dict[str, torch.Tensor],
                    encoder: str = 'online') -> Dict[str, torch.Tensor]:
    """Backbone-only weights (mmpretrain ViT / ResNet names, no prefix).

    Accepts an mmssl_ext CIM state dict or the reference release. ``encoder='online'``
    (default, what the reference fine-tunes) or ``'target'`` (the EMA encoder).
    """
    if encoder not in ('online', 'target'):
        raise ValueError(f"encoder must be 'online' or 'target', got {encoder!r}")
    if 'decoder_embed.weight' in state_dict:
        state_dict, _ = cim_official_to_mmssl(state_dict)
    prefix = 'backbone.' if encoder == 'online' else 'target_encoder.module.'
    backbone = strip_prefix(state_dict, prefix)
    if not backbone:
        raise KeyError(f'no {prefix}* keys: not a CIM checkpoint')
    return backbone
