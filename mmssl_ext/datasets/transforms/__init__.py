from .block_mask import BlockwiseMaskGenerator
from .cim_exemplars import PackCIMInputs, SampleCIMExemplars
from .load_image import CheckedLoadImageFromFile
from .pqcl_views import PackPQCLInputs, PQCLViews
from .resim_views import ReSimViews

__all__ = ['BlockwiseMaskGenerator', 'CheckedLoadImageFromFile', 'PackCIMInputs', 'PackPQCLInputs',
           'PQCLViews', 'ReSimViews', 'SampleCIMExemplars']
