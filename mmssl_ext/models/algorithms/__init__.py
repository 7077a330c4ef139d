from .cim import CIM
from .context_autoencoder import ContextAutoencoder
from .momentum_self_supervisor import MomentumSelfSupervisor
from .pqcl import PQCL
from .resim import ReSim

__all__ = ['CIM', 'ContextAutoencoder', 'MomentumSelfSupervisor', 'PQCL', 'ReSim']
