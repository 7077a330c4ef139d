"""rescale_epochs on the paper configs: every epoch-valued field, against hand-computed values."""
import os.path as osp

import pytest
from mmengine.config import Config

import mmssl_ext  # noqa: F401  (registers the hooks whose defaults are read)
from mmssl_ext.utils.epochs import rescale_epochs

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load(name):
    return Config.fromfile(osp.join(ROOT, 'configs', name))


def _phases(cfg):
    return [(s['type'], s['begin'], s['end'], s.get('T_max')) for s in cfg.param_scheduler]


def _hook(cfg, hook_type):
    return next(hook for hook in cfg.custom_hooks if hook['type'] == hook_type)


def test_pqcl_100_epochs_to_10():
    cfg = rescale_epochs(_load('pqcl/vit-s_100e_in1k.py'), 10)
    assert cfg.train_cfg.max_epochs == 10
    # warm-up 10 -> 1, cosine 90 -> 9 from epoch 1, weight decay cosine over all 10
    assert _phases(cfg) == [('LinearLR', 0, 1, None), ('CosineAnnealingLR', 1, 10, 9),
                            ('CosineAnnealingParamScheduler', 0, 10, None)]
    assert _hook(cfg, 'TeacherTempWarmupHook').warmup_epochs == 3  # 30 * 0.1
    assert _hook(cfg, 'FreezeLastLayerHook').epochs == 1  # 0.1 rounds to 0: kept at 1
    assert cfg.default_hooks.checkpoint.interval == 1


def test_pqcl_rounds_half_up():
    cfg = rescale_epochs(_load('pqcl/vit-s_100e_in1k.py'), 25)
    # 10 * 0.25 = 2.5 -> 3; cosine 3..25 (T_max 22); 30 * 0.25 = 7.5 -> 8
    assert _phases(cfg) == [('LinearLR', 0, 3, None), ('CosineAnnealingLR', 3, 25, 22),
                            ('CosineAnnealingParamScheduler', 0, 25, None)]
    assert _hook(cfg, 'TeacherTempWarmupHook').warmup_epochs == 8
    assert _hook(cfg, 'FreezeLastLayerHook').epochs == 1


def test_cim_300_epochs_to_30():
    cfg = rescale_epochs(_load('cim/vit-b_300e_in1k.py'), 30)
    assert cfg.train_cfg.max_epochs == 30
    assert _phases(cfg) == [('LinearLR', 0, 4, None), ('CosineAnnealingLR', 4, 30, 26)]
    assert cfg.default_hooks.checkpoint.interval == 1


def test_cae_800_epochs_to_40():
    cfg = rescale_epochs(_load('cae/vit-b_800e_in1k.py'), 40)
    assert cfg.train_cfg.max_epochs == 40
    # warm-up 20 * 0.05 = 1, cosine 1..40; checkpoint every 50 * 0.05 = 2.5 -> 3 epochs
    assert _phases(cfg) == [('LinearLR', 0, 1, None), ('CosineAnnealingLR', 1, 40, 39)]
    assert cfg.default_hooks.checkpoint.interval == 3


def test_resim_200_epochs_to_7():
    cfg = rescale_epochs(_load('resim/resim-fpn_r50_200e_in1k.py'), 7)
    assert cfg.train_cfg.max_epochs == 7
    assert _phases(cfg) == [('CosineAnnealingLR', 0, 7, 7)]
    assert cfg.default_hooks.checkpoint.interval == 1


def test_lengthening_and_hook_defaults():
    cfg = Config(dict(
        train_cfg=dict(max_epochs=10, val_interval=5),
        param_scheduler=[
            dict(type='LinearLR', by_epoch=False, begin=0, end=500),  # iterations
            dict(type='MultiStepLR', begin=0, end=10, milestones=[6, 9]),
            dict(type='CosineAnnealingLR', T_max=4, begin=2),  # end: mmengine's INF
        ],
        custom_hooks=[dict(type='TeacherTempWarmupHook')],  # default warmup_epochs=30
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=-1))))
    rescale_epochs(cfg, 20)
    assert cfg.train_cfg == dict(max_epochs=20, val_interval=10)
    assert cfg.param_scheduler[0] == dict(type='LinearLR', by_epoch=False, begin=0, end=500)
    assert cfg.param_scheduler[1].milestones == [12, 18]
    assert cfg.param_scheduler[1].end == 20
    assert (cfg.param_scheduler[2].begin, cfg.param_scheduler[2].T_max) == (4, 8)
    assert 'end' not in cfg.param_scheduler[2]
    assert cfg.custom_hooks[0].warmup_epochs == 60
    assert cfg.default_hooks.checkpoint.interval == -1  # disabled stays disabled


def test_too_short_run_is_an_error():
    with pytest.raises(ValueError, match='CosineAnnealingLR'):
        rescale_epochs(_load('cim/vit-b_300e_in1k.py'), 1)  # warm-up and cosine in 1 epoch
    with pytest.raises(ValueError, match='>= 1'):
        rescale_epochs(_load('cim/vit-b_300e_in1k.py'), 0)
    with pytest.raises(ValueError, match='max_epochs'):
        rescale_epochs(Config(dict(train_cfg=dict(type='IterBasedTrainLoop', max_iters=9))), 2)
