"""Every PQCL config builds; the demo config trains and resumes on the demo data."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# detection / segmentation transfer configs are built by test_transfer_configs.py
CONFIGS = sorted(path for path in glob.glob(osp.join(ROOT, 'configs', 'pqcl', '**', '*.py'),
                                           recursive=True)
                 if not osp.basename(path).startswith(('mask-rcnn_', 'upernet_')))
# mmdet / mmseg transfer configs: tests/test_configs/test_transfer_configs.py
CONFIGS = [p for p in CONFIGS
           if not osp.basename(p).startswith(('mask-rcnn', 'faster-rcnn', 'upernet'))]
HOOKS = {'TargetUpdateHook', 'TeacherTempWarmupHook', 'FreezeLastLayerHook',
         'PerParamGradClipHook'}
MONITORS = {'KNNMonitorHook', 'CollapseMonitorHook'}


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_config_builds_its_model(path):
    cfg = Config.fromfile(path)
    if '_knn' in osp.basename(path):  # k-NN configs describe a frozen encoder only
        # the Fashion-MNIST ones read extract_backbone.py files (no key prefix)
        expected = None if 'fmnist' in path else 'teacher_backbone.module.'
        assert MODELS.build(cfg.model).init_cfg['prefix'] == expected
        assert MODELS.build(cfg.data_preprocessor) is not None and cfg.knn.k
        return
    model_cfg = cfg.model.copy()
    if 'data_preprocessor' in cfg and 'data_preprocessor' not in model_cfg:
        model_cfg.data_preprocessor = cfg.data_preprocessor
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
    if '/benchmarks/' in path:
        assert model.backbone.init_cfg['prefix'] == 'teacher_backbone.module.'
        return
    assert cfg.auto_scale_lr.base_batch_size > 0
    assert cfg.default_hooks.checkpoint_kind.type == 'CheckpointKindHook'
    schedulers = {s.get('param_name', 'lr'): s for s in cfg.param_scheduler
                  if s.type.startswith('Cosine')}
    assert schedulers['lr'].end == cfg.train_cfg.max_epochs
    if cfg.model.type == 'MoCoV3':  # mmpretrain's peer of the small-scale PQCL
        assert {h.type for h in cfg.custom_hooks} == {'KNNMonitorHook'}
        return
    # the small-scale configs add the monitors (tests/test_configs/test_monitor_configs.py)
    assert {h.type for h in cfg.custom_hooks} - MONITORS == HOOKS
    # the model's own temperature is the one the hook starts from (the first step's)
    temperature, = [h for h in cfg.custom_hooks if h.type == 'TeacherTempWarmupHook']
    assert cfg.model.teacher_temp == temperature.start
    assert schedulers['weight_decay'].end == cfg.train_cfg.max_epochs


@pytest.mark.parametrize('name, arch, epochs', [
    ('vit-s_100e_in1k.py', 'deit-small', 100), ('vit-s_300e_in1k.py', 'deit-small', 300),
    ('vit-s_800e_in1k.py', 'deit-small', 800), ('vit-b_400e_in1k.py', 'base', 400),
    ('vit-s_dino-100e_in1k.py', 'deit-small', 100)])
def test_imagenet_recipes_match_the_paper(name, arch, epochs):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'pqcl', name))
    batch = cfg.train_dataloader.batch_size * 8
    assert batch == 1024 and cfg.auto_scale_lr.base_batch_size == 1024
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(5e-4 * batch / 256)
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.04
    assert cfg.model.backbone.arch == arch and cfg.train_cfg.max_epochs == epochs
    assert cfg.model.base_momentum == pytest.approx(0.004)
    views = next(t for t in cfg.train_dataloader.dataset.pipeline if t.type == 'PQCLViews')
    assert views.get('global_size', 224) == 224 and views.get('query_size', 96) == 96
    if 'dino' in name:
        assert cfg.model.use_mim is False and views.mask_prob == 0.
    else:
        assert cfg.model.use_mim is True
    hooks = {h.type: h for h in cfg.custom_hooks}
    assert (hooks['TeacherTempWarmupHook'].start, hooks['TeacherTempWarmupHook'].end,
            hooks['TeacherTempWarmupHook'].warmup_epochs) == (0.04, 0.07, 30)
    assert hooks['PerParamGradClipHook'].max_norm == 3.0
    assert hooks['FreezeLastLayerHook'].epochs == 1


@pytest.mark.parametrize('control, switched_off', [
    ('ibot_vit-t_small-scale_fmnist.py', {'query_loss_weight'}),
    ('dino_vit-t_small-scale_fmnist.py', {'query_loss_weight', 'use_mim'})])
def test_small_scale_controls_differ_from_pqcl_only_in_their_losses(control, switched_off):
    """The iBOT / DINO controls keep PQCL's small-scale model: the same teacher EMA (a
    constant 0.95), temperatures, head and encoder; only the query stream (and for
    DINO the masked-patch loss) is off, and the iterations match the compute."""
    pqcl = Config.fromfile(osp.join(ROOT, 'configs', 'pqcl', 'vit-t_small-scale_fmnist.py'))
    other = Config.fromfile(osp.join(ROOT, 'configs', 'pqcl', control))
    assert pqcl.model.base_momentum == pqcl.model.end_momentum == pytest.approx(0.05)
    differing = {key for key in set(pqcl.model) | set(other.model)
                 if pqcl.model.get(key) != other.model.get(key)}
    assert differing == switched_off
    assert other.model.query_loss_weight == 0
    assert other.custom_hooks == pqcl.custom_hooks and other.param_scheduler == pqcl.param_scheduler
    assert other.train_dataloader.dataset.indices > pqcl.train_dataloader.dataset.indices


@pytest.mark.slow
def test_demo_config_trains_and_resumes(tmp_path, demo_data_root):
    def train(*extra):
        result = subprocess.run(
            [sys.executable, osp.join(ROOT, 'tools', 'train.py'),
             osp.join(ROOT, 'configs', 'pqcl', 'vit-t_demo.py'), '--work-dir', str(tmp_path),
             '--cfg-options', f'train_dataloader.dataset.data_root={demo_data_root}/imagenet',
             'default_hooks.checkpoint.interval=1', 'train_dataloader.num_workers=0',
             'train_dataloader.persistent_workers=False',
             'custom_hooks.2.epochs=1',  # last layer frozen in epoch 0 only (demo: 5)
             *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
            env=dict(os.environ, OMP_NUM_THREADS='1'))
        assert result.returncode == 0, result.stderr[-4000:]
        return result.stdout + result.stderr

    log = train('train_cfg.max_epochs=2')
    for term in ('loss_cls', 'loss_mim', 'loss_query', 'teacher_temp'):
        assert term in log
    first = torch.load(tmp_path / 'epoch_2.pth', weights_only=True)
    log = train('train_cfg.max_epochs=3', '--resume')
    assert 'resumed epoch: 2' in log.lower().replace(',', '')
    resumed = torch.load(tmp_path / 'epoch_3.pth', weights_only=True)
    iters_per_epoch = first['meta']['iter'] // 2
    assert resumed['meta']['iter'] == 3 * iters_per_epoch
    state, before = resumed['state_dict'], first['state_dict']
    # the EMA teacher and the centres kept moving from the resumed state
    key = 'layers.0.ffn.layers.1.weight'
    assert not torch.equal(before[f'teacher_backbone.module.{key}'],
                           state[f'teacher_backbone.module.{key}'])
    assert not torch.equal(state[f'teacher_backbone.module.{key}'], state[f'backbone.{key}'])
    for kind in ('cls', 'patch', 'query'):
        assert not torch.equal(before[f'losses.{kind}.center'], state[f'losses.{kind}.center'])
    # the resumed epoch (index 2) of the demo's 40-epoch 0.04 -> 0.07 warm-up
    assert f'teacher_temp: {0.04 + 0.03 * 2 / 39:.4f}' in log
    last_layer = 'heads.cls.last_layer.parametrizations.weight.original1'
    assert not torch.equal(before[last_layer], state[last_layer])

    # the visualiser draws the resumed checkpoint: 2 rows of attention maps
    out = tmp_path / 'attention.png'
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'visualization', 'vis_pqcl.py'),
         osp.join(ROOT, 'configs', 'pqcl', 'vit-t_demo.py'), str(tmp_path / 'epoch_3.pth'),
         str(demo_data_root / 'imagenet' / 'train' / 'astronaut' / 'original.jpg'),
         '--out', str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    import cv2
    picture = cv2.imread(str(out))
    assert picture is not None and picture.shape[0] > 400 and picture.shape[1] > 800


def test_linear_probe_loads_the_teacher_encoder(tmp_path):
    demo = Config.fromfile(osp.join(ROOT, 'configs', 'pqcl', 'vit-t_demo.py'))
    pqcl = MODELS.build(demo.model)
    pqcl.init_weights()
    with torch.no_grad():  # make teacher and student differ
        for param in pqcl.teacher_backbone.parameters():
            param.add_(1.)
    checkpoint = tmp_path / 'pqcl.pth'
    torch.save({'state_dict': pqcl.state_dict()}, checkpoint)
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'pqcl', 'benchmarks',
                                   'vit-small-p16_8xb128-linear-coslr-100e_in1k.py'))
    cfg.model.backbone.update(arch=demo.model.backbone.arch, img_size=64, patch_size=8,
                              frozen_stages=4)
    cfg.model.backbone.init_cfg.checkpoint = str(checkpoint)
    cfg.model.head.in_channels = 4 * 96
    classifier = MODELS.build(cfg.model)
    classifier.init_weights()
    teacher = pqcl.teacher_backbone.module
    for name in ('layers.3.attn.qkv.weight', 'ln1.weight', 'patch_embed.projection.weight'):
        assert torch.equal(classifier.backbone.state_dict()[name], teacher.state_dict()[name])
    logits = classifier(torch.randn(2, 3, 64, 64), mode='tensor')
    assert logits.shape == (2, 1000)
