"""mmpretrain's own self-supervised checkpoints (``MAE``, ``MoCoV3``, ``MoCo``) ->
backbone weights, for the peers of the small-scale benchmark.

Sources (mmpretrain 1.x state dicts):

* ``MAE``: encoder ``backbone.*`` (``MAEViT``, a ``VisionTransformer``), decoder
  ``neck.*`` (``neck.mask_token``, ``neck.decoder_pos_embed``), no momentum encoder;
* ``MoCoV3``: query encoder ``backbone.*`` (``MoCoV3ViT`` / ``ResNet``), projector
  ``neck.*``, predictor ``head.*``; key encoder ``momentum_encoder.module.0.*`` (the
  backbone inside ``CosineEMA(nn.Sequential(backbone, neck))``);
* ``MoCo`` (v1 / v2): query encoder ``backbone.*``, key encoder ``encoder_k.module.0.*``
  (``ExponentialMovingAverage(nn.Sequential(backbone, neck))``) and the ``queue``.

The query encoder (``backbone.``) is what MAE and both MoCos transfer.
"""
from typing import Dict

import torch

from .common import strip_prefix

#: algorithm -> prefix of its key (momentum) encoder's backbone.
KEY_ENCODER_PREFIXES = {'mocov3': 'momentum_encoder.module.0.', 'moco': 'encoder_k.module.0.'}


def is_mae(state_dict: Dict[str, torch.Tensor]) -> bool:
    """mmpretrain ``MAE``: its decoder's mask token and position embedding."""
    return 'neck.mask_token' in state_dict and 'neck.decoder_pos_embed' in state_dict


def is_momentum(state_dict: Dict[str, torch.Tensor], algorithm: str) -> bool:
    """mmpretrain ``MoCoV3`` (``algorithm='mocov3'``) or ``MoCo`` (``'moco'``)."""
    prefix = KEY_ENCODER_PREFIXES[algorithm]
    return any(key.startswith(prefix) for key in state_dict)


def mae_to_backbone(state_dict: Dict[str, torch.Tensor],
                    encoder: str = 'encoder') -> Dict[str, torch.Tensor]:
    """``MAEViT`` weights in ``VisionTransformer`` names, no prefix (MAE has one
    encoder: ``encoder='encoder'``)."""
    if encoder != 'encoder':
        raise ValueError(f"MAE has one encoder: encoder must be 'encoder', got {encoder!r}")
    return strip_prefix(state_dict, 'backbone.')


def momentum_to_backbone(state_dict: Dict[str, torch.Tensor], encoder: str = 'query',
                         algorithm: str = 'mocov3') -> Dict[str, torch.Tensor]:
    """Backbone weights of an mmpretrain ``MoCoV3`` / ``MoCo`` state dict, no prefix.

    Args:
        state_dict (dict): the algorithm's state dict.
        encoder (str): ``'query'`` (default: what MoCo transfers) or ``'key'`` (the
            momentum encoder).
        algorithm (str): ``'mocov3'`` or ``'moco'``.
    """
    prefixes = dict(query='backbone.', key=KEY_ENCODER_PREFIXES[algorithm])
    if encoder not in prefixes:
        raise ValueError(f"encoder must be 'query' or 'key', got {encoder!r}")
    return strip_prefix(state_dict, prefixes[encoder])
