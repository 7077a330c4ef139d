from .batch_augment import BatchPhotometricAugment
from .block_mask import BlockwiseMaskGenerator
from .cim_exemplar_sampler import CIMExemplarSampler
from .cim_exemplars import PackCIMInputs, SampleCIMExemplars
from .load_image import CheckedLoadImageFromFile
from .pqcl_views import PackPQCLInputs, PQCLViews
from .resim_views import ReSimViews

__all__ = ['BatchPhotometricAugment', 'BlockwiseMaskGenerator', 'CheckedLoadImageFromFile',
           'CIMExemplarSampler', 'PackCIMInputs', 'PackPQCLInputs', 'PQCLViews', 'ReSimViews',
           'SampleCIMExemplars']
