from .cim_resnet import CIMResNet

__all__ = ['CIMResNet']
