from .cim_head import CIMHead
from .cae_pretrain_head import CAEPretrainHead
from .resim_region_head import ReSimRegionHead

__all__ = ['CAEPretrainHead', 'CIMHead', 'ReSimRegionHead']
