from .cim import CIM
from .context_autoencoder import ContextAutoencoder

__all__ = ['CIM', 'ContextAutoencoder']
