from .cim_resnet import CIMResNet
from .context_encoder_vit import ContextEncoderViT

__all__ = ['CIMResNet', 'ContextEncoderViT']
