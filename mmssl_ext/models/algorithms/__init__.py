from .cim import CIM

__all__ = ['CIM']
