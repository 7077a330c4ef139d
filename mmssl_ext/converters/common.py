"""Pieces shared by the checkpoint converters."""
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import torch

#: timm / MAE ViT block names -> mmpretrain VisionTransformer names (within a block).
TIMM_VIT_BLOCK_KEYS = (
    ('norm1.', 'ln1.'),
    ('attn.qkv.', 'attn.qkv.'),
    ('attn.proj.', 'attn.proj.'),
    ('norm2.', 'ln2.'),
    ('mlp.fc1.', 'ffn.layers.0.0.'),
    ('mlp.fc2.', 'ffn.layers.1.'),
)


@dataclass
class ConversionReport:
    """What a conversion used, ignored on purpose and could not find."""
    converted: int = 0
    unused: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f'converted {self.converted} tensors']
        if self.unused:
            lines.append(f'unused source keys ({len(self.unused)}): ' + ', '.join(self.unused))
        if self.missing:
            lines.append(f'missing target keys ({len(self.missing)}): ' + ', '.join(self.missing))
        return '\n'.join(lines)


def timm_vit_to_mmpretrain(state_dict: Dict[str, torch.Tensor], source_prefix: str,
                           target_prefix: str, block_name: str = 'blocks',
                           patch_embed: str = 'patch_embed', norm: str = 'norm',
                           with_tokens: bool = True) -> Dict[str, torch.Tensor]:
    """Map one timm-style ViT inside ``state_dict`` onto mmpretrain key names.

    Args:
        state_dict: source weights.
        source_prefix: prefix of the ViT's keys in the source (e.g. ``''``).
        target_prefix: prefix of the output keys (e.g. ``'backbone.'``).
        block_name / patch_embed / norm: the source's module names for the blocks,
            patch embedding and final norm (the CIM release names its target encoder's
            ``blocks_c``, ``patch_embed_c`` and ``norm_c``).
        with_tokens: also map ``cls_token`` and ``pos_embed``.

    Returns:
        dict: the converted tensors (the source is not modified).
    """
    out = {}
    block = re.compile(rf'^{re.escape(source_prefix + block_name)}\.(\d+)\.(.+)$')
    for key, value in state_dict.items():
        match = block.match(key)
        if match:
            index, rest = match.groups()
            for old, new in TIMM_VIT_BLOCK_KEYS:
                if rest.startswith(old):
                    out[f'{target_prefix}layers.{index}.{new}{rest[len(old):]}'] = value
                    break
            continue
        name = key[len(source_prefix):] if key.startswith(source_prefix) else None
        if name is None:
            continue
        if name.startswith(f'{patch_embed}.proj.'):
            out[f'{target_prefix}patch_embed.projection.{name.split(".")[-1]}'] = value
        elif name.startswith(f'{norm}.'):
            out[f'{target_prefix}ln1.{name.split(".")[-1]}'] = value
        elif with_tokens and name in ('cls_token', 'pos_embed'):
            out[f'{target_prefix}{name}'] = value
    return out


def load_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """Read a checkpoint with ``weights_only=True`` and return its state dict."""
    from mmssl_ext.utils.checkpoint import load_weights_only

    checkpoint = load_weights_only(path)
    for key in ('state_dict', 'model', 'module'):
        if isinstance(checkpoint, dict) and key in checkpoint:
            return checkpoint[key]
    return checkpoint


def strip_prefix(state_dict: Dict[str, torch.Tensor], prefix: str,
                 drop: Optional[List[str]] = None) -> Dict[str, torch.Tensor]:
    """Keys under ``prefix`` without it (optionally dropping some names)."""
    drop = drop or []
    return {k[len(prefix):]: v for k, v in state_dict.items()
            if k.startswith(prefix) and k[len(prefix):] not in drop}
