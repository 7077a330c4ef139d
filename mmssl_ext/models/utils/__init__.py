from .batch_augment import BatchPhotometricAugment
from .cim_exemplar_sampler import CIMExemplarSampler
from .cross_attention import CrossAttention, CrossAttentionBlock
from .ema import IterCosineEMA
from .pos_embed import sincos_2d_embed, sincos_2d_table
from .prroi_pool import prroi_pool_1x1
from .query_positions import query_patch_coords
from .region_windows import map_boxes, query_key_regions, sliding_windows
from .rotated_regions import (crop_rotated_regions, rasterize_regions, region_sampling_grid,
                              sample_rotated_regions)
from .split_batch_norm import SplitBatchNorm2d

__all__ = ['BatchPhotometricAugment', 'CIMExemplarSampler', 'crop_rotated_regions',
           'CrossAttention', 'CrossAttentionBlock', 'IterCosineEMA', 'map_boxes', 'prroi_pool_1x1',
           'query_key_regions', 'query_patch_coords', 'rasterize_regions', 'region_sampling_grid',
           'sample_rotated_regions', 'sincos_2d_embed', 'sincos_2d_table', 'sliding_windows',
           'SplitBatchNorm2d']
