"""Checkpoint converters (official releases -> mmssl_ext / backbone-only)."""
from .backbone import detect_algorithm, extract_backbone
from .cae import cae_release_to_mmssl, cae_to_backbone, fold_qv_bias
from .cim import cim_official_to_mmssl, cim_to_backbone
from .resim import resim_to_backbone, resim_to_mmdet
from .common import (ConversionReport, apply_key_map, count_blocks, load_state_dict, strip_prefix,
                     timm_vit_key_map)

__all__ = ['ConversionReport', 'apply_key_map', 'cae_release_to_mmssl', 'cae_to_backbone',
           'count_blocks', 'detect_algorithm', 'fold_qv_bias',
           'extract_backbone', 'cim_official_to_mmssl', 'cim_to_backbone', 'load_state_dict',
           'strip_prefix', 'timm_vit_key_map', 'resim_to_backbone', 'resim_to_mmdet']
