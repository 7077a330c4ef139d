"""Every ReSim config builds; the recipes match the paper; the demo trains and resumes."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import default_collate

import mmssl_ext  # noqa: F401
from mmpretrain.registry import DATASETS, MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'resim', '**', '*.py'), recursive=True))
# mmdet / mmseg transfer configs: tests/test_configs/test_transfer_configs.py
# mmpretrain's own MoCo (the small-scale peer): test_mmpretrain_peer_matches_our_setting
CONFIGS = [p for p in CONFIGS
           if not osp.basename(p).startswith(('mask-rcnn', 'faster-rcnn', 'upernet',
                                              'mmpretrain-'))]
DEMO = osp.join(ROOT, 'configs', 'resim', 'r18_demo.py')
SMALL_SCALE = osp.join(ROOT, 'configs', 'resim', '{}r18_small-scale_fmnist.py')


def _build_model(cfg):
    model_cfg = cfg.model.copy()
    if 'data_preprocessor' in cfg and 'data_preprocessor' not in model_cfg:
        model_cfg.data_preprocessor = cfg.data_preprocessor
    return MODELS.build(model_cfg)


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_config_builds_its_model(path):
    cfg = Config.fromfile(path)
    if '_knn' in osp.basename(path):  # k-NN configs describe a frozen encoder only
        assert MODELS.build(cfg.model).init_cfg['prefix'] is None  # extracted files
        assert MODELS.build(cfg.data_preprocessor) is not None and cfg.knn.k
        return
    model = _build_model(cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
    assert any(h.type == 'TargetUpdateHook' for h in cfg.custom_hooks)
    assert cfg.default_hooks.checkpoint_kind.type == 'CheckpointKindHook'
    assert cfg.train_dataloader.drop_last
    assert cfg.model.queue_len % cfg.train_dataloader.batch_size == 0
    assert any(t.type == 'ReSimViews' for t in cfg.train_dataloader.dataset.pipeline)


@pytest.mark.parametrize('variant, levels', [('c4', ('c4', )), ('fpn', ('p3', 'p4'))])
def test_in1k_recipes_match_the_paper(variant, levels):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'resim', f'resim-{variant}_r50_200e_in1k.py'))
    assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size == 256
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.03, momentum=0.9,
                                               weight_decay=1e-4)
    assert cfg.train_cfg.max_epochs == 200 and cfg.param_scheduler[0].T_max == 200
    assert cfg.model.queue_len == 65536 and cfg.model.head.temperature == 0.2
    assert cfg.model.base_momentum == cfg.model.end_momentum == 0.001  # MoCo's m = 0.999
    head = cfg.model.region_head
    assert tuple(head.level_names) == levels and head.projection and head.proj_channels == 128
    windows = dict(zip(head.level_names, zip(head.windows, head.window_strides, head.strides)))
    assert windows[levels[-1]] == (48, 32, 16)
    assert not head.get('edge_windows', False)  # the reference's grid (8 x 8 on P3)
    if variant == 'fpn':
        assert windows['p3'] == (32, 24, 8)
        assert cfg.model.region_neck.out_channels == 256
        # appendix A.1: P4 negatives synchronised across GPUs, P3 negatives per GPU
        assert [loss.gather for loss in head.loss] == [False, True]
    else:
        assert head.loss.get('gather', True)
    in100 = Config.fromfile(
        osp.join(ROOT, 'configs', 'resim', f'resim-{variant}_r50_500e_in100.py'))
    assert in100.model.queue_len == 16384 and in100.train_cfg.max_epochs == 500
    assert in100.param_scheduler[0].T_max == 500


def test_mmpretrain_peer_matches_our_setting():
    """mmpretrain's MoCo on our MoCo v2 setting's data, views, optimiser, budget."""
    ours, peer = (Config.fromfile(SMALL_SCALE.format(prefix))
                  for prefix in ('mocov2_', 'mmpretrain-mocov2_'))
    model = _build_model(peer)
    assert type(model) is MODELS.get('mmpretrain.MoCo')
    assert type(model).__module__.startswith('mmpretrain.')
    assert type(model.neck).__module__.startswith('mmpretrain.')
    assert type(model.data_preprocessor) is type(_build_model(ours).data_preprocessor)
    assert peer.model.queue_len == ours.model.queue_len
    assert peer.model.momentum == ours.model.base_momentum == ours.model.end_momentum
    assert peer.model.head.temperature == ours.model.head.temperature
    assert peer.model.backbone.depth == ours.model.backbone.depth == 18
    for key in ('out_channels', 'hid_channels', 'in_channels'):
        assert peer.model.neck[key] == ours.model.neck[key]
    for key in ('batch_size', 'drop_last'):
        assert peer.train_dataloader[key] == ours.train_dataloader[key]
    for key in ('data_root', 'data_prefix', 'indices', 'pipeline'):
        assert peer.train_dataloader.dataset[key] == ours.train_dataloader.dataset[key]
    assert peer.optim_wrapper.optimizer == ours.optim_wrapper.optimizer
    assert peer.param_scheduler == ours.param_scheduler
    assert peer.train_cfg.max_epochs == ours.train_cfg.max_epochs
    assert not any(hook.type == 'TargetUpdateHook' for hook in peer.custom_hooks)


def test_demo_pipeline_feeds_the_model(demo_data_root):
    cfg = Config.fromfile(DEMO)
    cfg.train_dataloader.dataset.data_root = str(demo_data_root / 'imagenet')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    model = _build_model(cfg)
    model.init_weights()
    batch = model.data_preprocessor(default_collate([dataset[i] for i in range(4)]), True)
    query, key = batch['inputs']
    assert query.shape == key.shape == (4, 3, 64, 64)
    assert batch['data_samples'][0].crop_boxes.shape == (2, 4)
    losses = model.loss(batch['inputs'], batch['data_samples'])
    assert all(torch.isfinite(v) for v in losses.values())


@pytest.mark.slow
def test_demo_config_trains_and_resumes(tmp_path, demo_data_root):
    def train(*extra):
        result = subprocess.run(
            [sys.executable, osp.join(ROOT, 'tools', 'train.py'), DEMO,
             '--work-dir', str(tmp_path),
             '--cfg-options', f'train_dataloader.dataset.data_root={demo_data_root}/imagenet',
             'default_hooks.checkpoint.interval=1', 'train_dataloader.num_workers=0',
             'train_dataloader.batch_size=4', *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
            env=dict(os.environ, OMP_NUM_THREADS='1'))
        assert result.returncode == 0, result.stderr[-4000:]
        return result.stdout + result.stderr

    log = train('train_cfg.max_epochs=2')
    assert 'loss_region_p3' in log and 'num_regions_p4' in log
    first = torch.load(tmp_path / 'epoch_2.pth', weights_only=True)
    log = train('train_cfg.max_epochs=3', '--resume')
    assert 'resumed epoch: 2' in log.lower().replace(',', '')
    resumed = torch.load(tmp_path / 'epoch_3.pth', weights_only=True)
    iters_per_epoch = first['meta']['iter'] // 2
    assert resumed['meta']['iter'] == 3 * iters_per_epoch
    state, before = resumed['state_dict'], first['state_dict']
    # the queue pointer and the momentum encoder continued from the checkpoint
    assert int(state['queue_ptr']) == (3 * iters_per_epoch * 4) % 32
    key = 'momentum_encoder.module.backbone.layer4.1.conv2.weight'
    assert not torch.equal(before[key], state[key])
    assert not torch.equal(state[key], state['backbone.layer4.1.conv2.weight'])
