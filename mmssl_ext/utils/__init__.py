from .checkpoint import (PortableHistoryBuffer, load_weights_only, make_portable,
                         register_safe_globals)

__all__ = ['PortableHistoryBuffer', 'load_weights_only', 'make_portable',
           'register_safe_globals']
