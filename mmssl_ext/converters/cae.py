"""CAE checkpoints: the reference release and mmpretrain's CAE -> mmssl_ext, and -> backbone.

Reference release (Atten4Vis/CAE, ``{'model': ...}``):

* encoder ``encoder.{cls_token, pos_embed, patch_embed.proj, blocks.<i>.{norm1,
  attn.qkv.weight, attn.q_bias, attn.v_bias, attn.proj, norm2, mlp.fc1, mlp.fc2,
  gamma_1, gamma_2}, norm}``; ``alignment_encoder.*`` is a copy of it (unused);
* regressor ``regresser.regressor_blocks.<i>.{norm1_q, norm1_k, norm1_v, norm2_cross,
  cross_attn.{q, k, v}.weight, cross_attn.{q_bias, v_bias}, cross_attn.proj,
  mlp_cross.fc1, mlp_cross.fc2, gamma_1_cross, gamma_2_cross}``, ``regresser.norm``,
  ``mask_token``;
* decoder ``decoder.decoder_blocks.<i>.*`` (encoder block names), ``decoder.norm``,
  ``decoder.head``; ``rd_pos_embed`` is the fixed sin-cos table the neck recomputes.

mmpretrain's CAE (``download.openmmlab.com/mmselfsup/1.x/cae/...``, mmengine
checkpoint): ``backbone.*`` already has our encoder's names (both are ``BEiTViT``),
``teacher.*`` is its one-step-stale copy (unused), ``neck.{regressors.<i>.{
norm1_q_cross, norm1_k_cross, norm1_v_cross, norm2_cross, cross_attn.*, ffn.*,
gamma_1_cross, gamma_2_cross}, decoders.<i>.*, norm_regressor, norm_decoder, head,
mask_token}`` and ``target_generator.*`` (DALL-E, copied as it is).
"""
from typing import Dict, Tuple

import torch

from .common import (ConversionReport, apply_key_map, count_blocks, strip_prefix,
                     timm_vit_key_map)

#: BEiT-style block parameters without a weight / bias pair.
BEIT_BLOCK_PARAMS = ('attn.q_bias', 'attn.v_bias', 'gamma_1', 'gamma_2')
#: our regressor layer modules <- (reference names, mmpretrain names).
REGRESSOR_MODULES = (
    ('norm_q', 'norm1_q', 'norm1_q_cross'),
    ('norm_k', 'norm1_k', 'norm1_k_cross'),
    ('norm_v', 'norm1_v', 'norm1_v_cross'),
    ('norm_cross', 'norm2_cross', 'norm2_cross'),
    ('cross_attn.proj', 'cross_attn.proj', 'cross_attn.proj'),
    ('ffn.layers.0.0', 'mlp_cross.fc1', 'ffn.layers.0.0'),
    ('ffn.layers.1', 'mlp_cross.fc2', 'ffn.layers.1'),
)
#: parameters of our regressor layer <- (reference names, mmpretrain names).
REGRESSOR_PARAMS = (
    ('cross_attn.q.weight', 'cross_attn.q.weight', 'cross_attn.q.weight'),
    ('cross_attn.k.weight', 'cross_attn.k.weight', 'cross_attn.k.weight'),
    ('cross_attn.v.weight', 'cross_attn.v.weight', 'cross_attn.v.weight'),
    ('cross_attn.q_bias', 'cross_attn.q_bias', 'cross_attn.q_bias'),
    ('cross_attn.v_bias', 'cross_attn.v_bias', 'cross_attn.v_bias'),
    ('gamma_1', 'gamma_1_cross', 'gamma_1_cross'),
    ('gamma_2', 'gamma_2_cross', 'gamma_2_cross'),
)
SOURCES = ('official', 'mmpretrain')


def beit_key_map(depth: int, target_prefix: str, source_prefix: str, blocks: str,
                 norm: str, with_embeddings: bool = True) -> Dict[str, str]:
    """Key map of a timm-named BEiT-style ViT (q/v bias, LayerScale) onto ``BEiTViT``.

    Args:
        depth (int): number of blocks.
        target_prefix (str): prefix of the output keys.
        source_prefix (str): prefix of the source keys (e.g. ``'encoder.'``).
        blocks (str): name of the source block list.
        norm (str): name of the source final norm.
        with_embeddings (bool): include patch embedding, cls token, pos embedding.
    """
    timm_map = timm_vit_key_map(depth, target_prefix, blocks=source_prefix + blocks,
                                patch_embed=source_prefix + 'patch_embed',
                                norm=source_prefix + norm)
    key_map = {target: source for target, source in timm_map.items()
               if not target.endswith('attn.qkv.bias')}
    if with_embeddings:
        for name in ('cls_token', 'pos_embed'):
            key_map[target_prefix + name] = source_prefix + name
    else:
        key_map = {target: source for target, source in key_map.items()
                   if target.startswith(target_prefix + 'layers.')}
    for index in range(depth):
        for param in BEIT_BLOCK_PARAMS:
            key_map[f'{target_prefix}layers.{index}.{param}'] = \
                f'{source_prefix}{blocks}.{index}.{param}'
    return key_map


def _regressor_key_map(depth: int, source_prefix: str, source: str) -> Dict[str, str]:
    """Our regressor layers (``neck.regressor_layers``) from either release."""
    column = SOURCES.index(source) + 1
    key_map = {}
    for index in range(depth):
        target = f'neck.regressor_layers.{index}.'
        origin = f'{source_prefix}{index}.'
        for names in REGRESSOR_MODULES:
            for param in ('weight', 'bias'):
                key_map[f'{target}{names[0]}.{param}'] = f'{origin}{names[column]}.{param}'
        for names in REGRESSOR_PARAMS:
            key_map[target + names[0]] = origin + names[column]
    return key_map


def _official_key_map(state_dict: Dict[str, torch.Tensor]) -> Dict[str, str]:
    key_map = beit_key_map(count_blocks(state_dict, 'encoder.blocks'), 'backbone.',
                           'encoder.', 'blocks', 'norm')
    decoder = beit_key_map(count_blocks(state_dict, 'decoder.decoder_blocks'),
                           'neck.decoder_', 'decoder.', 'decoder_blocks', 'norm',
                           with_embeddings=False)
    key_map.update(decoder)
    key_map.update(_regressor_key_map(count_blocks(state_dict, 'regresser.regressor_blocks'),
                                      'regresser.regressor_blocks.', 'official'))
    key_map['neck.mask_token'] = 'mask_token'
    for param in ('weight', 'bias'):
        key_map[f'neck.regressor_norm.{param}'] = f'regresser.norm.{param}'
        key_map[f'neck.decoder_norm.{param}'] = f'decoder.norm.{param}'
        key_map[f'neck.predictor.{param}'] = f'decoder.head.{param}'
    return key_map


def _mmpretrain_key_map(state_dict: Dict[str, torch.Tensor]) -> Dict[str, str]:
    key_map = {key: key for key in state_dict
               if key.startswith('backbone.') or key.startswith('target_generator.')}
    depth = count_blocks(state_dict, 'neck.decoders')
    for index in range(depth):
        for key in strip_prefix(state_dict, f'neck.decoders.{index}.'):
            key_map[f'neck.decoder_layers.{index}.{key}'] = f'neck.decoders.{index}.{key}'
    key_map.update(_regressor_key_map(count_blocks(state_dict, 'neck.regressors'),
                                      'neck.regressors.', 'mmpretrain'))
    key_map['neck.mask_token'] = 'neck.mask_token'
    for param in ('weight', 'bias'):
        key_map[f'neck.regressor_norm.{param}'] = f'neck.norm_regressor.{param}'
        key_map[f'neck.decoder_norm.{param}'] = f'neck.norm_decoder.{param}'
        key_map[f'neck.predictor.{param}'] = f'neck.head.{param}'
    return key_map


def cae_release_to_mmssl(state_dict: Dict[str, torch.Tensor], source: str = 'official'
                         ) -> Tuple[Dict[str, torch.Tensor], ConversionReport]:
    """A CAE release's weights in :class:`ContextAutoencoder` names.

    Args:
        state_dict: the release's state dict (``'model'`` / ``'state_dict'`` entry).
        source (str): ``'official'`` (reference code) or ``'mmpretrain'``.

    Returns:
        tuple: (state dict for ``ContextAutoencoder``, :class:`ConversionReport`).
    """
    if source not in SOURCES:
        raise ValueError(f'source must be one of {SOURCES}, got {source!r}')
    state_dict = strip_prefix(state_dict, 'module.') if all(
        key.startswith('module.') for key in state_dict) else state_dict
    if source == 'official':
        converted, report = apply_key_map(state_dict, _official_key_map(state_dict),
                                          recomputed=['rd_pos_embed'])
        report.unused = [key for key in report.unused
                         if not key.startswith('alignment_encoder.')]
        report.warnings.append('alignment_encoder.* (a copy of the encoder) not used: '
                               "the default alignment target is the live encoder")
    else:
        converted, report = apply_key_map(state_dict, _mmpretrain_key_map(state_dict))
        report.unused = [key for key in report.unused if not key.startswith('teacher.')]
        report.warnings.append('teacher.* (a one-step-stale encoder copy) not used')
    if not any(key.startswith('target_generator.') for key in converted):
        report.warnings.append('no tokenizer weights in the release: build the model with '
                               "the DALL-E target generator's own init_cfg")
    return converted, report


def fold_qv_bias(backbone: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """``BEiTViT`` encoder weights -> mmpretrain ``VisionTransformer`` names.

    ``attn.qkv.bias = cat(q_bias, 0, v_bias)`` (exact: the key bias of BEiT attention is
    zero), ``gamma_1 -> attn.gamma1.weight`` and ``gamma_2 -> ffn.gamma2.weight`` (a
    ``VisionTransformer`` built with ``layer_scale_init_value > 0``).
    """
    out = {}
    for key, value in backbone.items():
        if key.endswith('attn.q_bias'):
            block = key[:-len('q_bias')]
            v_bias = backbone[block + 'v_bias']
            out[block + 'qkv.bias'] = torch.cat([value, torch.zeros_like(v_bias), v_bias])
        elif key.endswith('attn.v_bias'):
            continue
        elif key.endswith('.gamma_1'):
            out[key[:-len('gamma_1')] + 'attn.gamma1.weight'] = value
        elif key.endswith('.gamma_2'):
            out[key[:-len('gamma_2')] + 'ffn.gamma2.weight'] = value
        else:
            out[key] = value
    return out


def cae_to_backbone(state_dict: Dict[str, torch.Tensor], encoder: str = 'encoder',
                    target: str = 'beit') -> Dict[str, torch.Tensor]:
    """The encoder of a :class:`ContextAutoencoder` state dict, without prefix.

    Args:
        state_dict: mmssl_ext CAE weights.
        encoder (str): ``'encoder'`` (default, the paper transfers it) or ``'ema'``
            (the momentum alignment encoder, if trained with one).
        target (str): ``'beit'`` (keys of mmpretrain's ``BEiTViT``, as stored) or
            ``'vit'`` (mmpretrain ``VisionTransformer``: q/v bias folded, see
            :func:`fold_qv_bias`).
    """
    prefixes = {'encoder': 'backbone.', 'ema': 'target_encoder.module.'}
    if encoder not in prefixes:
        raise ValueError(f'encoder must be one of {tuple(prefixes)}, got {encoder!r}')
    backbone = strip_prefix(state_dict, prefixes[encoder])
    if not backbone:
        raise KeyError(f'no {prefixes[encoder]}* weights in the checkpoint')
    if target == 'beit':
        return backbone
    if target == 'vit':
        return fold_qv_bias(backbone)
    raise ValueError(f"target must be 'beit' or 'vit', got {target!r}")
