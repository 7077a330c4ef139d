from .cross_attention import CrossAttention, CrossAttentionBlock
from .ema import IterCosineEMA

__all__ = ['CrossAttention', 'CrossAttentionBlock', 'IterCosineEMA']
