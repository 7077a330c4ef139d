"""Checkpoint converters (official releases -> mmssl_ext / backbone-only)."""
from .backbone import detect_algorithm, extract_backbone
from .cim import cim_official_to_mmssl, cim_to_backbone
from .common import ConversionReport, load_state_dict, timm_vit_to_mmpretrain

__all__ = ['ConversionReport', 'detect_algorithm', 'extract_backbone', 'cim_official_to_mmssl', 'cim_to_backbone',
           'load_state_dict', 'timm_vit_to_mmpretrain']
