"""Checkpoint converters (official releases -> mmssl_ext / backbone-only)."""
from .backbone import detect_algorithm, extract_backbone
from .cim import cim_official_to_mmssl, cim_to_backbone
from .common import (ConversionReport, apply_key_map, count_blocks, load_state_dict, strip_prefix,
                     timm_vit_key_map)

__all__ = ['ConversionReport', 'apply_key_map', 'count_blocks', 'detect_algorithm',
           'extract_backbone', 'cim_official_to_mmssl', 'cim_to_backbone', 'load_state_dict',
           'strip_prefix', 'timm_vit_key_map']
