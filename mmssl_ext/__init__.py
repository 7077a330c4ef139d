"""mmssl_ext: CIM, PQCL, CAE and ReSim self-supervised pre-training for OpenMMLab 2.0.

``import mmssl_ext`` (or ``custom_imports = dict(imports=['mmssl_ext'])`` in a config)
registers every module of the plugin into mmpretrain's registries, and the transfer
modules into mmdet's / mmseg's as well, allow-lists the few harmless types that
mmengine checkpoints contain so they load with ``torch.load(weights_only=True)``, and
routes ``http(s)://`` checkpoints through the SHA-256-verified, weights-only loader of
:mod:`mmssl_ext.utils.download`.
"""
from .utils.checkpoint import register_safe_globals
from .utils.download import register_verified_http_loader
from .version import __version__, version_info

register_safe_globals()
register_verified_http_loader()

from . import datasets, engine, models  # noqa: E402,F401  (registers modules)

__all__ = ['__version__', 'version_info']
