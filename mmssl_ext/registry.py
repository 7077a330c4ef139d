"""Where mmssl_ext's modules are registered.

Every module registers into mmpretrain's registries (scope ``mmpretrain``), so
pre-training configs with ``default_scope='mmpretrain'`` and detection / segmentation
configs (through ``type='mmpretrain.Name'``) can reach it once ``custom_imports``
has imported ``mmssl_ext``. Modules that mmdet or mmseg build from their own
registries without a scope prefix (necks, optimizer constructors) are additionally
registered there with :func:`register_downstream`; without mmdet / mmseg installed
that step is skipped, so a pure pre-training install still imports.
"""
import importlib
from typing import Callable, Type

from mmpretrain.registry import (DATA_SAMPLERS, DATASETS, HOOKS, METRICS, MODELS,
                                 OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                                 OPTIMIZERS, PARAM_SCHEDULERS, TRANSFORMS)

__all__ = [
    'DATA_SAMPLERS', 'DATASETS', 'HOOKS', 'METRICS', 'MODELS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'OPTIM_WRAPPERS', 'OPTIMIZERS',
    'PARAM_SCHEDULERS', 'TRANSFORMS', 'DOWNSTREAM_SCOPES', 'register_downstream'
]

#: Packages whose registries also receive the modules marked for transfer.
DOWNSTREAM_SCOPES = ('mmdet', 'mmseg')


def register_downstream(registry_name: str) -> Callable[[Type], Type]:
    """Class decorator: also register a module into mmdet's and mmseg's registry.

    Args:
        registry_name (str): attribute name of the registry in ``<scope>.registry``,
            e.g. ``'MODELS'`` or ``'OPTIM_WRAPPER_CONSTRUCTORS'``.
    """

    def _register(module: Type) -> Type:
        for scope in DOWNSTREAM_SCOPES:
            try:
                registry = getattr(importlib.import_module(f'{scope}.registry'),
                                   registry_name)
            except ImportError:
                continue
            registry.register_module(module=module)
        return module

    return _register
