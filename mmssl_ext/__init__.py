"""mmssl_ext: CIM, PQCL, CAE and ReSim self-supervised pre-training for OpenMMLab 2.0.

``import mmssl_ext`` (or ``custom_imports = dict(imports=['mmssl_ext'])`` in a config)
registers every module of the plugin into mmpretrain's registries, and the transfer
modules into mmdet's / mmseg's as well. It also registers, and changes nothing else:

* checkpoint pickling and the allow-list of their harmless data types, so that every
  checkpoint the process saves loads with ``torch.load(weights_only=True)``
  (:mod:`mmssl_ext.utils.checkpoint`);
* a SHA-256-verified, weights-only loader for ``http(s)://`` URLs that carry a hash and
  for the explicit ``mmssl_ext+https://`` scheme (:mod:`mmssl_ext.utils.download`);
  plain URLs stay with mmengine's loader;
* ``mmssl_ext::<algo>/<config>.py`` config paths for ``mmengine.hub.get_config`` and
  ``_base_``.
"""
from mmengine.config.utils import MODULE2PACKAGE

from .utils.checkpoint import register_portable_pickling, register_safe_globals
from .utils.download import register_verified_http_loader
from .version import __version__, version_info

register_safe_globals()
register_portable_pickling()
register_verified_http_loader()
# mmengine only resolves 'package::config' paths of the packages it lists; with this,
# mmengine.hub.get_config('mmssl_ext::cae/vit-b_300e_in1k.py') finds our packaged configs.
MODULE2PACKAGE.setdefault('mmssl_ext', 'mmssl_ext')

from . import datasets, engine, models  # noqa: E402,F401  (registers modules)

__all__ = ['__version__', 'version_info']
