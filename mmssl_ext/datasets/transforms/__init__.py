from .block_mask import BlockwiseMaskGenerator
from .cim_exemplars import PackCIMInputs, SampleCIMExemplars
from .resim_views import ReSimViews

__all__ = ['BlockwiseMaskGenerator', 'PackCIMInputs', 'SampleCIMExemplars', 'ReSimViews']
