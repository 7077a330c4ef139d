"""Pieces shared by the checkpoint converters.

A conversion is a *key map* ``{target key: source key}`` applied to a source state
dict by :func:`apply_key_map`: every source key the map names must exist (else a
``KeyError`` lists them), and every source key it does not name is reported as unused.
"""
import argparse
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Tuple

import torch

from mmssl_ext.utils.checkpoint import load_weights_only

#: timm / MAE ViT block modules -> mmpretrain ``TransformerEncoderLayer`` modules.
TIMM_VIT_BLOCK_MODULES = (
    ('norm1', 'ln1'),
    ('attn.qkv', 'attn.qkv'),
    ('attn.proj', 'attn.proj'),
    ('norm2', 'ln2'),
    ('mlp.fc1', 'ffn.layers.0.0'),
    ('mlp.fc2', 'ffn.layers.1'),
)


@dataclass
class ConversionReport:
    """What a conversion copied, left to be recomputed, and did not use.

    Attributes:
        converted (int): number of tensors written.
        recomputed (list[str]): source keys whose values the target model rebuilds
            itself (fixed tables), so they are not copied.
        unused (list[str]): source keys the target model has no counterpart for.
        warnings (list[str]): differences a user must know about.
    """
    converted: int = 0
    recomputed: List[str] = field(default_factory=list)
    unused: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f'converted {self.converted} tensors']
        if self.recomputed:
            lines.append(f'recomputed, not copied ({len(self.recomputed)}): '
                         + ', '.join(self.recomputed))
        if self.unused:
            lines.append(f'unused source keys ({len(self.unused)}): ' + ', '.join(self.unused))
        lines += [f'WARNING: {warning}' for warning in self.warnings]
        return '\n'.join(lines)


def count_blocks(state_dict: Dict[str, torch.Tensor], block_name: str) -> int:
    """Number of blocks ``{block_name}.<i>.*`` in ``state_dict`` (1 + largest index)."""
    pattern = re.compile(rf'^{re.escape(block_name)}\.(\d+)\.')
    indices = [int(match.group(1)) for match in map(pattern.match, state_dict) if match]
    if not indices:
        raise KeyError(f'no {block_name}.<i>.* keys in the checkpoint')
    return max(indices) + 1


def timm_vit_key_map(depth: int, target_prefix: str = '', blocks: str = 'blocks',
                     patch_embed: str = 'patch_embed', norm: str = 'norm') -> Dict[str, str]:
    """Key map of a timm-style ViT onto mmpretrain ``VisionTransformer`` names.

    ``patch_embed.proj -> patch_embed.projection``, ``blocks.i -> layers.i`` (see
    :data:`TIMM_VIT_BLOCK_MODULES`), final ``norm -> ln1``, and ``cls_token`` /
    ``pos_embed`` unchanged.

    Args:
        depth (int): number of blocks.
        target_prefix (str): prefix of the output keys, e.g. ``'backbone.'``.
        blocks, patch_embed, norm (str): the source's module names (the CIM release
            names its target encoder's ``blocks_c``, ``patch_embed_c`` and ``norm_c``).

    Returns:
        dict[str, str]: ``{target key: source key}``.
    """
    key_map = {f'{target_prefix}{name}': name for name in ('cls_token', 'pos_embed')}
    for param in ('weight', 'bias'):
        key_map[f'{target_prefix}patch_embed.projection.{param}'] = f'{patch_embed}.proj.{param}'
        key_map[f'{target_prefix}ln1.{param}'] = f'{norm}.{param}'
        for index in range(depth):
            for source, target in TIMM_VIT_BLOCK_MODULES:
                key_map[f'{target_prefix}layers.{index}.{target}.{param}'] = \
                    f'{blocks}.{index}.{source}.{param}'
    return key_map


def apply_key_map(state_dict: Dict[str, torch.Tensor], key_map: Dict[str, str],
                  recomputed: Iterable[str] = ()
                  ) -> Tuple[Dict[str, torch.Tensor], ConversionReport]:
    """Build ``{target key: state_dict[source key]}`` for every entry of ``key_map``.

    Args:
        state_dict: source weights (not modified).
        key_map: ``{target key: source key}``; one source key may feed several targets.
        recomputed: source keys that the target model rebuilds (reported, not copied).

    Returns:
        tuple: (converted state dict, :class:`ConversionReport`).

    Raises:
        KeyError: naming every source key the map needs and ``state_dict`` lacks.
    """
    missing = sorted({source for source in key_map.values() if source not in state_dict})
    if missing:
        raise KeyError(f'the checkpoint lacks {len(missing)} keys the model needs: '
                       + ', '.join(missing))
    converted = {target: state_dict[source] for target, source in key_map.items()}
    recomputed = [key for key in recomputed if key in state_dict]
    used = set(key_map.values()) | set(recomputed)
    report = ConversionReport(converted=len(converted), recomputed=recomputed,
                              unused=sorted(key for key in state_dict if key not in used))
    return converted, report


def load_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """Read a checkpoint with ``weights_only=True`` and return its state dict.

    Accepts mmengine checkpoints (``state_dict``) and MAE-style releases (``model``,
    saved next to the training ``args``: an ``argparse.Namespace``, allowed as data).
    """
    with torch.serialization.safe_globals([argparse.Namespace]):
        checkpoint = load_weights_only(path)
    for key in ('state_dict', 'model', 'module'):
        if isinstance(checkpoint, dict) and key in checkpoint:
            return checkpoint[key]
    return checkpoint


def strip_prefix(state_dict: Dict[str, torch.Tensor], prefix: str) -> Dict[str, torch.Tensor]:
    """The entries of ``state_dict`` under ``prefix``, without it."""
    return {key[len(prefix):]: value for key, value in state_dict.items()
            if key.startswith(prefix)}
