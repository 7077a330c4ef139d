from .block_mask import BlockwiseMaskGenerator
from .cim_exemplars import PackCIMInputs, SampleCIMExemplars

__all__ = ['BlockwiseMaskGenerator', 'PackCIMInputs', 'SampleCIMExemplars']
