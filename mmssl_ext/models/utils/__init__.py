from .batch_augment import BatchPhotometricAugment
from .cim_exemplar_sampler import CIMExemplarSampler
from .cross_attention import CrossAttention, CrossAttentionBlock
from .ema import IterCosineEMA
from .pos_embed import sincos_2d_table
from .rotated_regions import (crop_rotated_regions, rasterize_regions, region_sampling_grid,
                              sample_rotated_regions)
from .prroi_pool import prroi_pool_1x1
from .region_windows import map_boxes, query_key_regions, sliding_windows

__all__ = ['BatchPhotometricAugment', 'CIMExemplarSampler', 'CrossAttention',
           'CrossAttentionBlock', 'IterCosineEMA', 'crop_rotated_regions',
           'rasterize_regions', 'region_sampling_grid', 'sample_rotated_regions',
           'sincos_2d_table',
           'prroi_pool_1x1', 'map_boxes', 'query_key_regions', 'sliding_windows']
