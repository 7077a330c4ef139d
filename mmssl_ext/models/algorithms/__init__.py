from .cim import CIM
from .context_autoencoder import ContextAutoencoder
from .pqcl import PQCL
from .resim import ReSim

__all__ = ['CIM', 'ContextAutoencoder', 'PQCL', 'ReSim']
