from .cim_neck import CIMNeck
from .vit_feature_pyramid import ViTFeaturePyramid

__all__ = ['CIMNeck', 'ViTFeaturePyramid']
