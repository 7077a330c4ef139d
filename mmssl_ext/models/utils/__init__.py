from .batch_augment import BatchPhotometricAugment
from .cim_exemplar_sampler import CIMExemplarSampler
from .cross_attention import CrossAttention, CrossAttentionBlock
from .ema import IterCosineEMA
from .pos_embed import sincos_2d_table
from .rotated_regions import (crop_rotated_regions, rasterize_regions, region_sampling_grid,
                              sample_rotated_regions)

__all__ = ['BatchPhotometricAugment', 'CIMExemplarSampler', 'CrossAttention',
           'CrossAttentionBlock', 'IterCosineEMA', 'crop_rotated_regions',
           'rasterize_regions', 'region_sampling_grid', 'sample_rotated_regions',
           'sincos_2d_table']
