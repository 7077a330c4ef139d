from .cim_head import CIMHead

__all__ = ['CIMHead']
