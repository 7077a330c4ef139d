"""build_config_model: a config's model with its top-level data preprocessor."""
import os.path as osp

from mmengine.config import Config

import mmssl_ext  # noqa: F401
from mmssl_ext.utils.config import build_config_model

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_top_level_data_preprocessor_is_merged():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cim', 'vit-t_demo.py'))
    model = build_config_model(cfg)
    assert type(model).__name__ == 'CIM'
    assert type(model.data_preprocessor).__name__ == 'CIMDataPreprocessor'
    assert model.data_preprocessor.sampler.context_size == (64, 64)  # the config's, not 160


def test_model_own_data_preprocessor_wins():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cim', 'vit-t_demo.py'))
    cfg.model.data_preprocessor = dict(cfg.data_preprocessor,
                                       sampler=dict(cfg.data_preprocessor.sampler,
                                                    context_size=32))
    assert build_config_model(cfg).data_preprocessor.sampler.context_size == (32, 32)
