from .block_mask import BlockwiseMaskGenerator
from .cim_exemplars import PackCIMInputs, SampleCIMExemplars
from .pqcl_views import PackPQCLInputs, PQCLViews
from .resim_views import ReSimViews

__all__ = ['BlockwiseMaskGenerator', 'PackCIMInputs', 'PackPQCLInputs', 'PQCLViews', 'ReSimViews',
           'SampleCIMExemplars']
