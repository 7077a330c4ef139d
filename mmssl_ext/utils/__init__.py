from .checkpoint import (PortableHistoryBuffer, load_weights_only, register_portable_pickling,
                         register_safe_globals)
from .download import (ChecksumError, download_verified, expected_sha256,
                       load_from_http_verified, register_verified_http_loader)

__all__ = ['ChecksumError', 'PortableHistoryBuffer', 'download_verified', 'expected_sha256',
           'load_from_http_verified', 'load_weights_only', 'register_portable_pickling',
           'register_safe_globals', 'register_verified_http_loader']
