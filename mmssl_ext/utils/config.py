"""Configs that inherit ours through ``mmssl_ext::`` (or other packages') ``_base_`` paths.

mmengine stamps ``_scope_='<package>'`` on every top-level dict with a ``type`` that a
config inherits from ``<package>::...``. For ``mmssl_ext::`` that scope names no registry
(our modules live in mmpretrain's, mmdet's and mmseg's registries, whose scope the
inherited config declares in ``default_scope``), so the lookup falls back to mmengine's
root registries and fails (``UniversalVisualizer is not in the mmengine::visualizer
registry``). And mmengine's Runner passes every key of ``collate_fn`` except ``type`` to the
function, so an inherited ``default_collate`` receives ``_scope_`` as an argument.
:func:`drop_inherited_scopes` undoes both; tools/train.py and tools/test.py call it.

:func:`build_config_model` builds a config's model outside a Runner, for the tools that
load a checkpoint into it (visualisers, probes).
"""
from typing import Any

from mmengine.config import Config

#: the scope mmengine stamps on what a config inherits from ``mmssl_ext::``.
PLUGIN_SCOPE = 'mmssl_ext'
DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _drop_plugin_scope(node: Any) -> None:
    if isinstance(node, dict):
        if node.get('_scope_') == PLUGIN_SCOPE:
            del node['_scope_']
        for value in node.values():
            _drop_plugin_scope(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _drop_plugin_scope(value)


def drop_inherited_scopes(cfg: Config) -> Config:
    """Build what a config inherits from ``mmssl_ext::`` in its ``default_scope``, and
    call inherited collate functions without a ``_scope_`` argument (in place)."""
    _drop_plugin_scope(cfg._cfg_dict)
    for field in DATALOADERS:
        collate_fn = (cfg.get(field) or {}).get('collate_fn')
        if isinstance(collate_fn, dict):
            collate_fn.pop('_scope_', None)
    return cfg


def build_config_model(cfg: Config):
    """``cfg.model`` with the config's top-level ``data_preprocessor`` (as mmengine's
    Runner merges them unless the model sets its own), built from mmpretrain's
    registry; not initialised."""
    from mmpretrain.registry import MODELS

    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    return MODELS.build(model_cfg)
