from .cae_pretrain_head import CAEPretrainHead
from .cim_head import CIMHead
from .ibot_projection_head import IBOTProjectionHead
from .pqcl_head import PQCLHead
from .resim_region_head import ReSimRegionHead

__all__ = ['CAEPretrainHead', 'CIMHead', 'IBOTProjectionHead', 'PQCLHead', 'ReSimRegionHead']
