from .cim_head import CIMHead
from .cae_pretrain_head import CAEPretrainHead

__all__ = ['CAEPretrainHead', 'CIMHead']
