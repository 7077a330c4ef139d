"""Checkpoint converters (official releases -> mmssl_ext / backbone-only)."""
from .backbone import detect_algorithm, extract_backbone
from .cae import cae_release_to_mmssl, cae_to_backbone, fold_qv_bias
from .cim import cim_official_to_mmssl, cim_to_backbone
from .common import (apply_key_map, ConversionReport, count_blocks, load_state_dict, strip_prefix,
                     timm_vit_key_map)
from .pqcl import pqcl_official_to_mmssl, pqcl_to_backbone
from .resim import resim_to_backbone, resim_to_mmdet

__all__ = ['apply_key_map', 'cae_release_to_mmssl', 'cae_to_backbone', 'cim_official_to_mmssl',
           'cim_to_backbone', 'ConversionReport', 'count_blocks', 'detect_algorithm',
           'extract_backbone', 'fold_qv_bias', 'load_state_dict', 'pqcl_official_to_mmssl',
           'pqcl_to_backbone', 'resim_to_backbone', 'resim_to_mmdet', 'strip_prefix',
           'timm_vit_key_map']
