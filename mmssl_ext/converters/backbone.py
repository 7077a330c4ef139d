"""Backbone-only weights from any mmssl_ext pre-training checkpoint, or from the
checkpoint of an mmpretrain peer (``MAE``, ``MoCoV3``, ``MoCo``)."""
from functools import partial
from typing import Dict, Optional, Tuple

import torch

from .cae import cae_to_backbone
from .cim import cim_to_backbone
from .mmpretrain import is_mae, is_momentum, mae_to_backbone, momentum_to_backbone
from .resim import resim_to_backbone
from .pqcl import pqcl_to_backbone

#: algorithm -> (how to recognise its state dict, default encoder, extractor).
#: The default is the encoder each paper transfers.
EXTRACTORS = {
    'cae': (lambda sd: 'neck.mask_token' in sd and 'neck.regressor_layers.0.gamma_1' in sd,
            'encoder', cae_to_backbone),
    'cim': (lambda sd: 'neck.embed.weight' in sd and any(
        k.startswith('target_encoder.module.') for k in sd), 'online', cim_to_backbone),
    # ReSim and its MoCo v2 setting (region_head=None: no region keys)
    'resim': (lambda sd: 'queue' in sd and any(
        k.startswith('momentum_encoder.module.backbone.') for k in sd),
        'query', resim_to_backbone),
    'pqcl': (lambda sd: 'losses.query.center' in sd and any(
        k.startswith('teacher_backbone.module.') for k in sd), 'teacher', pqcl_to_backbone),
    # mmpretrain's own algorithms (after CAE: its neck also has a mask token)
    'mae': (is_mae, 'encoder', mae_to_backbone),
    'moco': (partial(is_momentum, algorithm='moco'), 'query',
             partial(momentum_to_backbone, algorithm='moco')),
    'mocov3': (partial(is_momentum, algorithm='mocov3'), 'query',
               partial(momentum_to_backbone, algorithm='mocov3')),
}


def detect_algorithm(state_dict: Dict[str, torch.Tensor]) -> str:
    """Name of the algorithm (mmssl_ext's or an mmpretrain peer) that wrote ``state_dict``."""
    for name, (matches, _, _) in EXTRACTORS.items():
        if matches(state_dict):
            return name
    raise ValueError('not a pre-training checkpoint of a known algorithm '
                     f'({", ".join(EXTRACTORS)}); first keys: {list(state_dict)[:5]}')


def extract_backbone(state_dict: Dict[str, torch.Tensor], encoder: Optional[str] = None
                     ) -> Tuple[Dict[str, torch.Tensor], str, str]:
    """Backbone weights (target-library names, no prefix) of a pre-training state dict.

    Returns:
        tuple: (backbone state dict, algorithm name, encoder used).
    """
    algorithm = detect_algorithm(state_dict)
    _, default_encoder, extractor = EXTRACTORS[algorithm]
    encoder = encoder or default_encoder
    return extractor(state_dict, encoder), algorithm, encoder
