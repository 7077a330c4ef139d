from .attentive_probe_neck import AttentiveProbeNeck
from .cae_regressor_decoder import CAERegressorDecoder
from .cim_neck import CIMNeck
from .resim_fpn import ReSimFPN
from .vit_feature_pyramid import ViTFeaturePyramid

__all__ = ['AttentiveProbeNeck', 'CAERegressorDecoder', 'CIMNeck', 'ReSimFPN', 'ViTFeaturePyramid']
