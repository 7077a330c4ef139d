from .cross_attention import CrossAttention, CrossAttentionBlock
from .data_samples import set_sample_field, stack_sample_field
from .ema import IterCosineEMA
from .location_prior import location_prior_ce
from .pos_embed import POS_RESIZE_RULES, resize_pos_table, sincos_2d_embed, sincos_2d_table
from .prroi_pool import prroi_pool_1x1
from .split_batch_norm import SplitBatchNorm2d

__all__ = ['CrossAttention', 'CrossAttentionBlock', 'IterCosineEMA', 'location_prior_ce',
           'POS_RESIZE_RULES', 'prroi_pool_1x1', 'resize_pos_table', 'set_sample_field',
           'sincos_2d_embed', 'sincos_2d_table', 'SplitBatchNorm2d', 'stack_sample_field']
