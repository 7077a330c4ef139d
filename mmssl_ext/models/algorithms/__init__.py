from .cim import CIM
from .context_autoencoder import ContextAutoencoder
from .resim import ReSim

__all__ = ['CIM', 'ContextAutoencoder', 'ReSim']
