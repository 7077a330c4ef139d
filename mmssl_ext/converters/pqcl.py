"""PQCL checkpoints: the reference format -> mmssl_ext, and -> backbone only.

The reference (Sherrylone/PQCL, iBOT-style) saves ``{'student', 'teacher', 'pqcl_loss',
'optimizer', 'epoch', 'args'}``: the student under ``module.backbone.`` /
``module.head.`` (DDP), the teacher under ``backbone.`` / ``head.``. Backbones are
timm ViTs (``cls_token, pos_embed, patch_embed.proj, blocks.<i>, norm``) plus
``masked_embed`` (1, D), the shared mask / query token, and two modules its forward
never uses (``query_block.*``, ``norm2.*``: reported unused). Heads are
``mlp.{0,2,4}`` + ``last_layer.weight_g / weight_v`` (old-style weight norm); a shared
head also stores ``last_layer2.*``, the same tensors (unused here). ``pqcl_loss``
holds the three centres ``center`` (1, K), ``center2`` / ``center3`` (1, 1, K).
"""
import re
from typing import Dict, Tuple

import torch

from .common import (ConversionReport, apply_key_map, count_blocks, strip_prefix,
                     timm_vit_key_map)

#: our encoder prefixes; the evaluation convention uses the teacher.
ENCODER_PREFIXES = {'teacher': 'teacher_backbone.module.', 'student': 'backbone.'}
#: reference loss buffers -> our centres.
CENTERS = {'center': 'losses.cls.center', 'center2': 'losses.patch.center',
           'center3': 'losses.query.center'}
WEIGHT_NORM = {'weight_g': 'parametrizations.weight.original0',
               'weight_v': 'parametrizations.weight.original1'}


def _head_key_map(source: Dict[str, torch.Tensor], source_prefix: str,
                  target_prefix: str) -> Dict[str, str]:
    """Key map of one iBOT head (``mlp.<i>`` linears and the weight-normed last layer)."""
    pattern = re.compile(rf'^{re.escape(source_prefix)}mlp\.(\d+)\.weight$')
    indices = sorted(int(m.group(1)) for m in map(pattern.match, source) if m)
    if not indices:
        raise KeyError(f'no {source_prefix}mlp.<i>.weight keys in the checkpoint')
    key_map = {}
    for position, index in enumerate(indices):
        for param in ('weight', 'bias'):  # ours: Linear, GELU, Linear, ... -> 2 * position
            key_map[f'{target_prefix}mlp.{2 * position}.{param}'] = \
                f'{source_prefix}mlp.{index}.{param}'
    for old, new in WEIGHT_NORM.items():
        key_map[f'{target_prefix}last_layer.{new}'] = f'{source_prefix}last_layer.{old}'
    return key_map


def pqcl_official_to_mmssl(checkpoint: Dict
                           ) -> Tuple[Dict[str, torch.Tensor], ConversionReport]:
    """The reference checkpoint -> an mmssl_ext :class:`PQCL` state dict.

    Student and teacher backbones and heads (shared head: ``heads.cls``), the three
    centres (when ``pqcl_loss`` is present) and EMA ``steps`` = 1, so the loaded teacher
    is not re-copied from the student.

    Args:
        checkpoint (dict): the reference's ``{'student': ..., 'teacher': ...}``.

    Returns:
        tuple: (state dict, :class:`ConversionReport`).
    """
    missing = [key for key in ('student', 'teacher') if key not in checkpoint]
    if missing:
        raise KeyError(f'not a PQCL reference checkpoint: no {missing} entries '
                       f'(keys: {sorted(checkpoint)[:8]})')
    student = checkpoint['student']
    student = strip_prefix(student, 'module.') or student
    teacher = checkpoint['teacher']
    teacher = strip_prefix(teacher, 'module.') or teacher
    source = {f'student.{k}': v for k, v in student.items()}
    source.update({f'teacher.{k}': v for k, v in teacher.items()})
    source.update({f'loss.{k}': v for k, v in checkpoint.get('pqcl_loss', {}).items()})

    key_map = {}
    for network, (backbone_prefix, heads_prefix) in dict(
            student=('backbone.', 'heads.'),
            teacher=('teacher_backbone.module.', 'teacher_heads.module.')).items():
        backbone = strip_prefix(source, f'{network}.backbone.')
        key_map.update({target: f'{network}.backbone.{src}' for target, src in
                        timm_vit_key_map(count_blocks(backbone, 'blocks'),
                                         backbone_prefix).items()})
        key_map[f'{backbone_prefix}mask_token'] = f'{network}.backbone.masked_embed'
        key_map.update(_head_key_map(source, f'{network}.head.', f'{heads_prefix}cls.'))
    key_map.update({ours: f'loss.{theirs}' for theirs, ours in CENTERS.items()
                    if f'loss.{theirs}' in source})
    converted, report = apply_key_map(source, key_map)

    embed_dims = converted['backbone.cls_token'].shape[-1]
    for prefix in ENCODER_PREFIXES.values():
        converted[f'{prefix}mask_token'] = converted[f'{prefix}mask_token'].reshape(
            1, 1, embed_dims)
    for key in CENTERS.values():
        if key in converted:
            converted[key] = converted[key].reshape(1, -1)
    for name in ('teacher_backbone', 'teacher_heads'):
        converted[f'{name}.steps'] = torch.tensor(1)
    if any(key.endswith('.head.last_layer2.weight_v') for key in source):
        shared = torch.equal(source['student.head.last_layer.weight_v'],
                             source['student.head.last_layer2.weight_v'])
        if not shared:
            report.warnings.append('the reference head has a separate last_layer2; its '
                                   'forward never uses it, so it is dropped')
    if 'pqcl_loss' not in checkpoint:
        report.warnings.append('no pqcl_loss entry: the centres start at zero')
    return converted, report


def pqcl_to_backbone(state_dict: Dict[str, torch.Tensor],
                     encoder: str = 'teacher') -> Dict[str, torch.Tensor]:
    """Backbone-only weights: mmpretrain ``VisionTransformer`` names, no prefix.

    Args:
        state_dict (dict): an mmssl_ext PQCL state dict.
        encoder (str): ``'teacher'`` (default; the PQCL / iBOT evaluation
            convention) or ``'student'``.

    Returns:
        dict: loadable by ``init_cfg=dict(type='Pretrained', checkpoint=...)`` on an
        mmpretrain ``VisionTransformer`` (the query / mask token is dropped).
    """
    if encoder not in ENCODER_PREFIXES:
        raise ValueError(f"encoder must be 'teacher' or 'student', got {encoder!r}")
    prefix = ENCODER_PREFIXES[encoder]
    backbone = strip_prefix(state_dict, prefix)
    if not backbone:
        raise KeyError(f'no {prefix}* keys: not a PQCL checkpoint')
    backbone.pop('mask_token', None)
    return backbone
