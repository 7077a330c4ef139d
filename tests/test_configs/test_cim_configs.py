"""Every CIM config builds; the demo config trains and resumes on the demo data."""
import glob
import math
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', 'cim', '**', '*.py'), recursive=True))
# mmdet / mmseg transfer configs: tests/test_configs/test_transfer_configs.py
CONFIGS = [p for p in CONFIGS
           if not osp.basename(p).startswith(('mask-rcnn', 'faster-rcnn', 'upernet'))]


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_config_builds_its_model(path):
    cfg = Config.fromfile(path)
    model_cfg = cfg.model.copy()
    if 'data_preprocessor' in cfg and 'data_preprocessor' not in model_cfg:
        model_cfg.data_preprocessor = cfg.data_preprocessor
    model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0
    if '/benchmarks/' not in path:
        assert cfg.auto_scale_lr.base_batch_size > 0
        assert any(h.type == 'TargetUpdateHook' for h in cfg.custom_hooks)
        assert cfg.default_hooks.checkpoint_kind.type == 'CheckpointKindHook'
    else:
        assert model.backbone.init_cfg['prefix'] == 'backbone.'


def test_vit_b_recipe_matches_the_paper():
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cim', 'vit-b_300e_in1k.py'))
    batch = cfg.train_dataloader.batch_size * 8 * cfg.optim_wrapper.accumulative_counts
    assert batch == 4096
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1.5e-4 * batch / 256)
    assert cfg.optim_wrapper.optimizer.betas == (0.9, 0.95)
    assert cfg.param_scheduler[0].end == 40 and cfg.train_cfg.max_epochs == 300
    sampler = cfg.data_preprocessor.sampler
    assert (sampler.context_size, sampler.exemplar_size, sampler.num_exemplars) == (160, 64, 6)
    assert cfg.model.base_momentum == 0.01 and cfg.model.end_momentum == 0.0


@pytest.mark.slow
def test_demo_config_trains_and_resumes(tmp_path, demo_data_root):
    def train(*extra):
        result = subprocess.run(
            [sys.executable, osp.join(ROOT, 'tools', 'train.py'),
             osp.join(ROOT, 'configs', 'cim', 'vit-t_demo.py'), '--work-dir', str(tmp_path),
             '--cfg-options', f'train_dataloader.dataset.data_root={demo_data_root}/imagenet',
             'default_hooks.checkpoint.interval=1', 'train_dataloader.num_workers=0',
             *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
            env=dict(os.environ, OMP_NUM_THREADS='1'))
        assert result.returncode == 0, result.stderr[-4000:]
        return result.stdout + result.stderr

    train('train_cfg.max_epochs=2')
    first = torch.load(tmp_path / 'epoch_2.pth', weights_only=True)
    log = train('train_cfg.max_epochs=3', '--resume')
    assert 'resumed epoch: 2' in log.lower().replace(',', '')
    # the training log carries the decoder's cross-entropy beside the location-only
    # predictor's, a probability-smoothed cross-entropy of binary maps: in (0, ln 2]
    logged = re.findall(r' ce: (\d+\.\d+)  iou: \d+\.\d+  location_prior_ce: (\d+\.\d+)', log)
    assert logged and all(float(ce) > 0 and 0 < float(prior) <= math.log(2)
                          for ce, prior in logged)
    resumed = torch.load(tmp_path / 'epoch_3.pth', weights_only=True)
    iters_per_epoch = first['meta']['iter'] // 2
    assert resumed['meta']['iter'] == 3 * iters_per_epoch
    # the EMA target kept moving from the resumed state (it is not re-copied)
    key = 'target_encoder.module.layers.0.ffn.layers.1.weight'
    assert not torch.equal(first['state_dict'][key], resumed['state_dict'][key])
    assert not torch.equal(resumed['state_dict'][key],
                           resumed['state_dict']['backbone.layers.0.ffn.layers.1.weight'])

    # the visualiser draws the resumed checkpoint: 3 rows x (1 + N) panels
    out = tmp_path / 'maps.png'
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'visualization', 'vis_cim.py'),
         osp.join(ROOT, 'configs', 'cim', 'vit-t_demo.py'), str(tmp_path / 'epoch_3.pth'),
         str(demo_data_root / 'imagenet' / 'train' / 'astronaut' / 'original.jpg'),
         '--out', str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    import cv2
    picture = cv2.imread(str(out))
    assert picture is not None and picture.shape[0] > 300 and picture.shape[1] > 500


def test_cpu_sampling_pipeline_feeds_the_preprocessor(demo_data_root):
    from mmengine.dataset import default_collate
    from mmpretrain.registry import DATASETS

    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cim', 'vit-b_300e_in1k_cpu-sampling.py'))
    cfg.train_dataloader.dataset.data_root = str(demo_data_root / 'imagenet')
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch = default_collate([dataset[0], dataset[1]])
    preprocessor = MODELS.build(cfg.data_preprocessor)
    out = preprocessor(batch, True)
    contexts, exemplars = out['inputs']
    maps = torch.stack([sample.correlation_maps for sample in out['data_samples']])
    assert contexts.shape == (2, 3, 160, 160) and exemplars.shape == (2, 6, 3, 64, 64)
    assert maps.shape == (2, 6, 160, 160) and maps.dtype == torch.long


def test_unreadable_image_names_the_file(tmp_path):
    from mmpretrain.registry import DATASETS

    (tmp_path / 'train' / 'a').mkdir(parents=True)
    broken = tmp_path / 'train' / 'a' / 'broken.jpg'
    broken.write_bytes(b'not a jpeg')
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cim', 'vit-t_demo.py'))
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    with pytest.raises(Exception, match='broken.jpg'):
        dataset[0]


@pytest.mark.parametrize('name', ['vit-s_300e_in1k.py',
                                  'benchmarks/vit-small-p16_8xb256-coslr-200e_in1k.py'])
def test_vit_s_configs_build_a_vit_small(name):
    """ViT-S/16 = 384-d, 12 blocks, 6 heads (mmpretrain's arch 'small' is another model)."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cim', name))
    model = MODELS.build(cfg.model)
    assert (model.backbone.embed_dims, model.backbone.num_layers) == (384, 12)
    assert model.backbone.layers[0].attn.num_heads == 6
    tokens = model.backbone(torch.zeros(1, 3, 224, 224))[-1]
    assert tokens.shape[-1] == 384
