"""ReSim checkpoints (ours or the reference release) -> backbone / mmdet-ready weights.

Sources:

* mmssl_ext ``ReSim``: query encoder ``backbone.*`` (mmpretrain ``ResNet``: torchvision
  names), FPN ``region_neck.lateral_convs.<i>`` (input level C(3 + i)) and
  ``region_neck.output_convs.<j>`` (level P(3 + out_indices[j]); (0, 1) -> P3, P4 in the
  shipped configs), key encoder ``momentum_encoder.module.{backbone,region_neck}.*``;
* the reference release (Tete-Xiao/ReSim, MoCo format ``{'state_dict': ...}``):
  ``module.encoder_q.*`` / ``module.encoder_k.*`` with torchvision ResNet names, the MoCo
  MLP ``fc.*`` (unused here) and, for ReSim-FPN, ``fpn_lateral{3,4,5}`` and
  ``fpn_output{3,4}`` (plain convs with bias).

mmdet's FPN numbers its levels from its first input: with the standard R50-FPN
(``in_channels=[256, 512, 1024, 2048]``, C2-C5) level C``l`` is index ``l - 2``, so
``fpn_lateral3/4/5 -> neck.lateral_convs.1/2/3.conv`` and ``fpn_output3/4 ->
neck.fpn_convs.1/2.conv``; the C2 lateral, the P2 / P5 output convs and the extra levels
stay randomly initialised (ReSim-FPN^T).
"""
from typing import Dict, Sequence, Tuple

import torch

from .common import ConversionReport, apply_key_map, strip_prefix

#: encoder -> prefix of its modules in an mmssl_ext ReSim state dict.
ENCODER_PREFIXES = {'query': '', 'key': 'momentum_encoder.module.'}
#: encoder -> prefix in the reference release.
RELEASE_PREFIXES = {'query': 'module.encoder_q.', 'key': 'module.encoder_k.'}
FPN_FIRST_LEVEL = 3  # ReSimFPN's first input is C3


def is_release(state_dict: Dict[str, torch.Tensor]) -> bool:
    """Whether ``state_dict`` is the reference release's (MoCo ``module.encoder_q.*``)."""
    return any(key.startswith(RELEASE_PREFIXES['query']) for key in state_dict)


def _check_encoder(encoder: str) -> None:
    if encoder not in ENCODER_PREFIXES:
        raise ValueError(f"encoder must be 'query' or 'key', got {encoder!r}")


def resim_to_backbone(state_dict: Dict[str, torch.Tensor],
                      encoder: str = 'query') -> Dict[str, torch.Tensor]:
    """ResNet weights, torchvision / mmpretrain / mmdet names, no prefix.

    Args:
        state_dict (dict): an mmssl_ext ReSim state dict or the reference release.
        encoder (str): ``'query'`` (default; what the paper transfers) or ``'key'``
            (the momentum encoder).

    Returns:
        dict: loadable by ``init_cfg=dict(type='Pretrained', checkpoint=...)`` on an
        mmpretrain or mmdet ``ResNet``.
    """
    _check_encoder(encoder)
    if is_release(state_dict):
        encoder_weights = strip_prefix(state_dict, RELEASE_PREFIXES[encoder])
        return {key: value for key, value in encoder_weights.items()
                if not key.startswith(('fc.', 'fpn_'))}
    prefix = f'{ENCODER_PREFIXES[encoder]}backbone.'
    backbone = strip_prefix(state_dict, prefix)
    if not backbone:
        raise KeyError(f'no {prefix}* keys: not a ReSim checkpoint')
    return backbone


def _fpn_key_map(state_dict: Dict[str, torch.Tensor], encoder: str, detector_first_level: int,
                 output_levels: Sequence[int]) -> Dict[str, str]:
    """``{mmdet neck key: source key}`` of the pre-trained FPN convs."""
    targets = []  # (mmdet module, source module)
    if is_release(state_dict):
        prefix = RELEASE_PREFIXES[encoder]
        for level in (3, 4, 5):
            targets.append((f'lateral_convs.{level - detector_first_level}',
                            f'{prefix}fpn_lateral{level}'))
        for level in (3, 4):
            targets.append((f'fpn_convs.{level - detector_first_level}',
                            f'{prefix}fpn_output{level}'))
    else:
        prefix = f'{ENCODER_PREFIXES[encoder]}region_neck.'
        laterals = sorted({int(key[len(prefix):].split('.')[1]) for key in state_dict
                           if key.startswith(f'{prefix}lateral_convs.')})
        if not laterals:
            raise KeyError(f'no {prefix}lateral_convs.* keys: a ReSim-C4 checkpoint has no '
                           'FPN to transfer')
        for index in laterals:
            targets.append((f'lateral_convs.{FPN_FIRST_LEVEL + index - detector_first_level}',
                            f'{prefix}lateral_convs.{index}'))
        for index, level in enumerate(output_levels):
            targets.append((f'fpn_convs.{level - detector_first_level}',
                            f'{prefix}output_convs.{index}'))
    if any(int(target.split('.')[1]) < 0 for target, _ in targets):
        raise ValueError(f'detector_first_level={detector_first_level} is above a '
                         'pre-trained FPN level')
    return {f'neck.{target}.conv.{param}': f'{source}.{param}'
            for target, source in targets for param in ('weight', 'bias')}


def resim_to_mmdet(state_dict: Dict[str, torch.Tensor],
                   encoder: str = 'query',
                   with_fpn: bool = False,
                   detector_first_level: int = 2,
                   output_levels: Sequence[int] = (3, 4)
                   ) -> Tuple[Dict[str, torch.Tensor], ConversionReport]:
    """An mmdet-ready state dict (``load_from``) of a ReSim checkpoint.

    Args:
        state_dict (dict): an mmssl_ext ReSim state dict or the reference release.
        encoder (str): ``'query'`` (default) or ``'key'``.
        with_fpn (bool): also write the pre-trained FPN laterals and output convs onto
            mmdet's ``FPN`` (ReSim-FPN^T). Defaults to False.
        detector_first_level (int): the C level of the detector FPN's first input
            (2 for ``in_channels=[256, 512, 1024, 2048]``). Defaults to 2.
        output_levels (Sequence[int]): P levels of an mmssl_ext checkpoint's
            ``output_convs`` (``3 + ReSimFPN.out_indices``). Defaults to (3, 4).

    Returns:
        tuple: (``{'backbone.*', ['neck.*']}`` state dict, :class:`ConversionReport`).
    """
    backbone = resim_to_backbone(state_dict, encoder)
    converted = {f'backbone.{key}': value for key, value in backbone.items()}
    report = ConversionReport(converted=len(converted))
    if with_fpn:
        neck, neck_report = apply_key_map(
            state_dict, _fpn_key_map(state_dict, encoder, detector_first_level,
                                     output_levels))
        converted.update(neck)
        report.converted += neck_report.converted
    else:
        report.warnings.append('the FPN is not transferred (with_fpn=False)')
    return converted, report
