from .attentive_probe_neck import AttentiveProbeNeck
from .cae_regressor_decoder import CAERegressorDecoder
from .cim_neck import CIMNeck
from .vit_feature_pyramid import ViTFeaturePyramid
from .resim_fpn import ReSimFPN

__all__ = ['AttentiveProbeNeck', 'CAERegressorDecoder', 'CIMNeck', 'ViTFeaturePyramid', 'ReSimFPN']
