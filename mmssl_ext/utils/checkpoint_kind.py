"""What kind of model a checkpoint holds; a checkpoint of the wrong kind is an error.

A checkpoint written by a run of our configs carries ``meta['model_kind']``::

    {'algorithm': 'CIM', 'backbone': 'ContextEncoderViT',
     'arch': {'embed_dims': 768, 'num_layers': 12}}

(:func:`model_kind`, stamped by :class:`~mmssl_ext.engine.hooks.CheckpointKindHook`).
Loaders compare it with the model they fill (:func:`check_kind`): the whole model
(``load_from``, ``--resume``, ``tools/test.py``, the visualisers) must be the same
algorithm and architecture; a backbone initialised from a checkpoint (``init_cfg=dict(
type='Pretrained', prefix='backbone.')``) must have the same architecture (its class may
differ: a pre-training encoder becomes mmpretrain's ``VisionTransformer``). Checkpoints
without the entry (official releases, converted files) skip this comparison.

Whatever their origin, the keys are checked too (:func:`load_report`): a weight whose
shape differs, or a model weight the checkpoint lacks, is an error, except the keys that
:data:`ALWAYS_ALLOWED_MISSING`, :data:`RESIZED_ON_LOAD` and the caller's
``allowed_missing`` patterns document.
"""
import re
from typing import Dict, Iterable, List, Optional, Sequence

import torch
from mmengine.runner.checkpoint import CheckpointLoader, load_state_dict
from torch import nn

#: attributes of a backbone that define its architecture (ViTs: width and depth;
#: ResNets: depth).
ARCH_ATTRIBUTES = ('embed_dims', 'num_layers', 'depth')
#: model keys any checkpoint may lack: BatchNorm step counters (older torch), and the
#: relative position bias of BEiT-style blocks, which fine-tuning recipes (BEiT, CAE)
#: add new to an encoder pre-trained with absolute positions.
ALWAYS_ALLOWED_MISSING = (r'(^|\.)num_batches_tracked$',
                          r'(^|\.)attn\.relative_position_(bias_table|index)$')
#: weights whose shape may differ: ViT position embeddings, which mmpretrain / mmseg
#: backbones resize to the model's grid while loading.
RESIZED_ON_LOAD = (r'(^|\.)pos_embed$', )


class CheckpointKindError(RuntimeError):
    """A checkpoint holds another algorithm / architecture, or misses model weights."""


def _unwrap(model: nn.Module) -> nn.Module:
    return getattr(model, 'module', model)


def backbone_arch(backbone: nn.Module) -> Dict[str, int]:
    """``{attribute: value}`` of :data:`ARCH_ATTRIBUTES` that ``backbone`` has."""
    return {name: getattr(backbone, name) for name in ARCH_ATTRIBUTES
            if isinstance(getattr(backbone, name, None), int)}


def model_kind(model: nn.Module) -> dict:
    """``{'algorithm', 'backbone', 'arch'}`` of a model (wrappers such as DDP removed)."""
    model = _unwrap(model)
    kind = {'algorithm': type(model).__name__}
    backbone = getattr(model, 'backbone', None)
    if isinstance(backbone, nn.Module):
        kind.update(backbone=type(backbone).__name__, arch=backbone_arch(backbone))
    return kind


def _describe(kind: dict) -> str:
    arch = ', '.join(f'{k}={v}' for k, v in sorted(kind.get('arch', {}).items()))
    backbone = f" with {kind['backbone']}({arch})" if 'backbone' in kind else ''
    return f"{kind.get('algorithm', '?')}{backbone}"


def check_kind(checkpoint_kind: Optional[dict], model: nn.Module, source: str,
               backbone_only: bool = False) -> None:
    """Refuse a checkpoint whose ``meta['model_kind']`` differs from ``model``'s.

    Args:
        checkpoint_kind (dict | None): the checkpoint's ``meta['model_kind']``; None
            (a checkpoint from elsewhere) skips the comparison.
        model (nn.Module): the model being filled, or its backbone when
            ``backbone_only``.
        source (str): the checkpoint's name, for the message.
        backbone_only (bool): compare only the architecture with the checkpoint's
            backbone (``init_cfg`` Pretrained on a backbone).

    Raises:
        CheckpointKindError: naming both kinds.
    """
    if not checkpoint_kind:
        return
    if backbone_only:
        arch = backbone_arch(_unwrap(model))
        expected = checkpoint_kind.get('arch', {})
        if arch == expected:
            return
        mine = f'{type(_unwrap(model)).__name__}({arch})'
    else:
        kind = model_kind(model)
        if kind == checkpoint_kind:
            return
        mine = _describe(kind)
    raise CheckpointKindError(
        f'{source} holds {_describe(checkpoint_kind)}, but the model is {mine}. Use a '
        'checkpoint of this kind, or opt out explicitly: check_kind=False in the '
        'CheckpointKindHook config, or --no-checkpoint-check (tools/test.py, visualisers).')


def checkpoint_state_dict(checkpoint: dict) -> Dict[str, torch.Tensor]:
    """The weights of a loaded checkpoint, without a ``module.`` (DDP) prefix."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    return {key[len('module.'):] if key.startswith('module.') else key: value
            for key, value in state_dict.items()}


def _matches(key: str, patterns: Iterable[str]) -> bool:
    return any(re.search(pattern, key) for pattern in patterns)


def load_report(state_dict: Dict[str, torch.Tensor], model: nn.Module,
                allowed_missing: Sequence[str] = ()) -> Dict[str, List[str]]:
    """Compare a checkpoint's weights with what ``model`` holds.

    Returns:
        dict: ``missing`` (model keys the checkpoint lacks, minus the allowed ones),
        ``unexpected`` (checkpoint keys the model has no place for) and ``mismatched``
        (``'key: checkpoint shape vs model shape'``).
    """
    own = _unwrap(model).state_dict()
    patterns = (*ALWAYS_ALLOWED_MISSING, *allowed_missing)
    missing = [key for key in own if key not in state_dict and not _matches(key, patterns)]
    unexpected = [key for key in state_dict if key not in own]
    mismatched = [f'{key}: {tuple(state_dict[key].shape)} vs {tuple(own[key].shape)}'
                  for key in own if key in state_dict and hasattr(state_dict[key], 'shape')
                  and state_dict[key].shape != own[key].shape
                  and not _matches(key, RESIZED_ON_LOAD)]
    return dict(missing=missing, unexpected=unexpected, mismatched=mismatched)


def check_load_report(report: Dict[str, List[str]], source: str) -> None:
    """Raise :class:`CheckpointKindError` when weights are missing or of another shape."""
    problems = []
    if report['mismatched']:
        problems.append(f"{len(report['mismatched'])} weights of another shape ("
                        + ', '.join(report['mismatched'][:5]) + ')')
    if report['missing']:
        problems.append(f"{len(report['missing'])} model weights missing ("
                        + ', '.join(report['missing'][:5]) + ')')
    if problems:
        raise CheckpointKindError(
            f'{source} does not fit the model: ' + '; '.join(problems) + '. List keys the '
            'checkpoint may lack in default_hooks.checkpoint_kind.allowed_missing, or opt '
            'out with check_keys=False.')


def load_checked(model: nn.Module, filename: str, check: bool = True,
                 allowed_missing: Sequence[str] = ()) -> dict:
    """Fill the whole ``model`` from ``filename`` after checking kind and keys.

    What the visualisers use; ``check=False`` (their ``--no-checkpoint-check``) loads
    what fits, as mmengine's ``load_checkpoint`` does.

    Returns:
        dict: the loaded checkpoint.
    """
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
    state_dict = checkpoint_state_dict(checkpoint)
    if check:
        check_kind(checkpoint.get('meta', {}).get('model_kind'), model, filename)
        check_load_report(load_report(state_dict, model, allowed_missing), filename)
    load_state_dict(model, state_dict, strict=False, logger='current')
    return checkpoint
