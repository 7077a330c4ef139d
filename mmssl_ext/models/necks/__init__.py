from .cim_neck import CIMNeck

__all__ = ['CIMNeck']
