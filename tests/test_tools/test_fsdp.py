"""FSDP through mmengine's FlexibleRunner (configs/_base_/fsdp.py): 2 CPU processes
(gloo) train the same weights as DDP, and the FSDP configs keep the weight-decay groups."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS

import mmssl_ext  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FSDP_DEMO = osp.join(ROOT, 'tests', 'data', 'configs', 'cae_vit-t_fsdp_demo.py')
DDP_DEMO = osp.join(ROOT, 'configs', 'cae', 'vit-t_demo.py')


def _dist_train(config, work_dir, port, data_root):
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(port), PYTHONUNBUFFERED='1',
               OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), config, '2', '--work-dir',
         str(work_dir), '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
         'train_cfg.max_epochs=1', 'train_dataloader.batch_size=4',
         'train_dataloader.num_workers=0',
         # FSDP on CPU cannot broadcast rank 0's initial weights: the same on all ranks
         'randomness.diff_rank_seed=False'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout + result.stderr


@pytest.mark.slow
def test_fsdp_on_two_cpu_processes_trains_as_ddp(tmp_path, demo_data_root):
    data_root = demo_data_root / 'imagenet'
    log = _dist_train(FSDP_DEMO, tmp_path / 'fsdp', 29641, data_root)
    assert "runner_type = 'FlexibleRunner'" in log and 'FSDPGradClipHook' in log
    _dist_train(DDP_DEMO, tmp_path / 'ddp', 29642, data_root)
    fsdp = torch.load(tmp_path / 'fsdp' / 'epoch_1.pth', weights_only=True)
    ddp = torch.load(tmp_path / 'ddp' / 'epoch_1.pth', weights_only=True)
    # 15 images per rank, batches of 4: 3 optimizer steps, clipped (norm above 3)
    assert fsdp['meta']['iter'] == ddp['meta']['iter'] == 4
    fsdp_weights, ddp_weights = fsdp['state_dict'], ddp['state_dict']
    assert set(fsdp_weights) == set(ddp_weights)
    initial, compared = _initial_weights(), 0
    for name, weight in ddp_weights.items():
        # A parameter without a gradient signal (the key-norm biases of the regressor:
        # softmax ignores a shift shared by all keys) moves by AdamW-normalised rounding
        # noise, which depends on the reduction order; every other one must match.
        if (weight - initial[name]).abs().max() > 1e-4:
            torch.testing.assert_close(fsdp_weights[name], weight, rtol=1e-4, atol=1e-6)
            compared += 1
    assert compared >= len(ddp_weights) - 4  # the runs trained, nearly all compared


def _initial_weights():
    """The demo model's initial weights (seed 0, as both runs start on every rank)."""
    from mmengine.runner import set_random_seed
    cfg = Config.fromfile(DDP_DEMO)
    set_random_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    return model.state_dict()


def _weight_decay_by_name(config):
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(Config.fromfile(DDP_DEMO).model)
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    names = {id(param): name for name, param in model.named_parameters()}
    return {names[id(param)]: group['weight_decay']
            for group in optim_wrapper.optimizer.param_groups for param in group['params']}


def test_fsdp_configs_keep_the_weight_decay_groups():
    """Without FSDP, the name-based exemptions of the FSDP configs give every parameter
    the weight decay that flat_decay_mult=0 gives it (FSDP flattens all to 1-D)."""
    reference = _weight_decay_by_name(DDP_DEMO)
    assert reference == _weight_decay_by_name(FSDP_DEMO)
    assert {0.0, 0.05} == set(reference.values())
    fsdp_l = Config.fromfile(osp.join(ROOT, 'configs', 'cae', 'vit-l_1600e_in1k_fsdp.py'))
    assert fsdp_l.runner_type == 'FlexibleRunner'
    assert fsdp_l.optim_wrapper.paramwise_cfg == Config.fromfile(
        FSDP_DEMO).optim_wrapper.paramwise_cfg
    assert fsdp_l.optim_wrapper.type == 'AmpOptimWrapper'
    assert fsdp_l.model.backbone.arch == 'l'
