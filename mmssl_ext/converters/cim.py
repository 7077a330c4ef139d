"""CIM checkpoints: the reference release -> mmssl_ext, and -> backbone only.

The reference release (weivision/Correlational-Image-Modeling; ``{'model': ...}``, no
``module.`` prefix) holds

* the online encoder: ``cls_token, pos_embed, patch_embed.proj, blocks.<i>, norm``;
* the target (EMA) encoder: ``patch_embed_c, blocks_c.<i>, norm_c``; it shares
  ``cls_token`` and ``pos_embed`` with the online encoder;
* the correlation decoder: ``decoder_embed``, ``decoder_corr_block.block.{norm1,
  attn.q, attn.kv, attn.proj, norm2, mlp.fc1, mlp.fc2}``, ``decoder_norm``,
  ``decoder_pred_mask.0`` (1x1 conv), and ``decoder_pos_embed``, a fixed sin-cos table
  that :class:`CIMNeck` recomputes;
* a contrastive branch that mmssl_ext's CIM does not have (``decoder_g_embed*``,
  ``decoder_predictor``: linear + BatchNorm projection MLPs), reported as unused.
"""
from typing import Dict, Optional, Tuple

import torch

from mmssl_ext.models.utils.pos_embed import sincos_2d_table
from .common import ConversionReport, apply_key_map, count_blocks, strip_prefix, timm_vit_key_map

#: reference decoder modules -> ``CIMNeck`` modules (both have weight and bias).
DECODER_MODULES = (
    ('decoder_embed', 'embed'),
    ('decoder_corr_block.block.norm1', 'blocks.0.norm1'),
    ('decoder_corr_block.block.attn.q', 'blocks.0.attn.q'),
    ('decoder_corr_block.block.attn.kv', 'blocks.0.attn.kv'),
    ('decoder_corr_block.block.attn.proj', 'blocks.0.attn.proj'),
    ('decoder_corr_block.block.norm2', 'blocks.0.norm2'),
    ('decoder_corr_block.block.mlp.fc1', 'blocks.0.ffn.layers.0.0'),
    ('decoder_corr_block.block.mlp.fc2', 'blocks.0.ffn.layers.1'),
    ('decoder_norm', 'norm'),
    ('decoder_pred_mask.0', 'predictor'),
)
#: reference names of the target encoder's modules (``timm_vit_key_map`` arguments).
TARGET_ENCODER_NAMES = dict(blocks='blocks_c', patch_embed='patch_embed_c', norm='norm_c')
ENCODER_PREFIXES = {'online': 'backbone.', 'target': 'target_encoder.module.'}


def _encoder_key_map(state_dict: Dict[str, torch.Tensor], encoder: str,
                     target_prefix: str) -> Dict[str, str]:
    """Key map of one encoder of the release; both have the online encoder's depth."""
    depth = count_blocks(state_dict, 'blocks')
    names = TARGET_ENCODER_NAMES if encoder == 'target' else {}
    return timm_vit_key_map(depth, target_prefix, **names)


def _decoder_pos_embed_warning(table: torch.Tensor) -> Optional[str]:
    """Compare the release's decoder table with the one ``CIMNeck`` recomputes.

    Args:
        table (Tensor): (1, 1 + n*n, D) ``decoder_pos_embed`` of the release.

    Returns:
        str, optional: None if they agree (both MAE's sin-cos table), else a warning.
    """
    num_cells, embed_dims = table.shape[1] - 1, table.shape[2]
    grid = round(num_cells**0.5)
    if grid * grid != num_cells or embed_dims % 4:
        return (f'decoder_pos_embed {tuple(table.shape)} is not a square sin-cos grid; '
                'CIMNeck recomputes its own table')
    if torch.allclose(table.float().cpu(), sincos_2d_table((grid, grid), embed_dims),
                      atol=1e-5):
        return None
    return ('the release\'s decoder_pos_embed differs from the MAE sin-cos table CIMNeck '
            'recomputes: the converted decoder sees other context positions')


def cim_official_to_mmssl(state_dict: Dict[str, torch.Tensor]
                          ) -> Tuple[Dict[str, torch.Tensor], ConversionReport]:
    """Convert the reference CIM state dict into an mmssl_ext ``CIM`` state dict.

    The result loads strictly into ``CIM`` (``CIMViT`` encoders + ``CIMNeck`` +
    ``CIMHead``) of the release's sizes: online encoder -> ``backbone.*``, target
    encoder -> ``target_encoder.module.*`` (with the shared class token and position
    embedding), decoder -> ``neck.*``. ``target_encoder.steps`` is set to 1 so that
    training continues the EMA instead of re-copying the online encoder.

    Args:
        state_dict (dict): the release's ``model`` entry.

    Returns:
        tuple: (converted state dict, :class:`ConversionReport` listing the unused
        contrastive-branch keys and the recomputed ``decoder_pos_embed``).

    Raises:
        KeyError: naming every key of the release the model needs and cannot find.
    """
    decoder = {f'neck.{target}.{param}': f'{source}.{param}'
               for source, target in DECODER_MODULES for param in ('weight', 'bias')}
    key_map = {**_encoder_key_map(state_dict, 'online', ENCODER_PREFIXES['online']),
               **_encoder_key_map(state_dict, 'target', ENCODER_PREFIXES['target']),
               **decoder}
    converted, report = apply_key_map(state_dict, key_map, recomputed=['decoder_pos_embed'])
    converted['target_encoder.steps'] = torch.tensor(1, dtype=torch.long)
    report.converted += 1
    if 'decoder_pos_embed' in state_dict:
        warning = _decoder_pos_embed_warning(state_dict['decoder_pos_embed'])
        if warning:
            report.warnings.append(warning)
    return converted, report


def cim_to_backbone(state_dict: Dict[str, torch.Tensor],
                    encoder: str = 'online') -> Dict[str, torch.Tensor]:
    """Backbone-only weights: mmpretrain ``VisionTransformer`` names, no prefix.

    Args:
        state_dict (dict): an mmssl_ext CIM state dict (``backbone.*``,
            ``target_encoder.module.*``) or the reference release (``blocks.*``,
            ``blocks_c.*``).
        encoder (str): ``'online'`` (default; what the reference fine-tunes) or
            ``'target'`` (the EMA encoder).

    Returns:
        dict: loadable by ``init_cfg=dict(type='Pretrained', checkpoint=...)`` on an
        mmpretrain ``VisionTransformer`` / ``MoCoV3ViT`` (and mmdet / mmseg configs
        using ``type='mmpretrain.VisionTransformer'``); ResNet encoders keep their
        mmpretrain names.
    """
    if encoder not in ENCODER_PREFIXES:
        raise ValueError(f"encoder must be 'online' or 'target', got {encoder!r}")
    if any(key.startswith('blocks_c.') for key in state_dict):
        backbone, _ = apply_key_map(state_dict, _encoder_key_map(state_dict, encoder, ''))
        return backbone
    prefix = ENCODER_PREFIXES[encoder]
    backbone = strip_prefix(state_dict, prefix)
    if not backbone:
        raise KeyError(f'no {prefix}* keys: not a CIM checkpoint')
    return backbone
