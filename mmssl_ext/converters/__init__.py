"""Checkpoint converters (official releases -> mmssl_ext / backbone-only)."""
from .cim import cim_official_to_mmssl, cim_to_backbone
from .common import ConversionReport, load_state_dict, timm_vit_to_mmpretrain

__all__ = ['ConversionReport', 'cim_official_to_mmssl', 'cim_to_backbone',
           'load_state_dict', 'timm_vit_to_mmpretrain']
