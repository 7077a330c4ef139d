"""tools/train.py: training, --resume with weights-only checkpoints, CPU multi-process."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_mae.py')
NUM_IMAGES = 30
BATCH = 4
ITERS_PER_EPOCH = -(-NUM_IMAGES // BATCH)


def _run(args, cwd):
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout + result.stderr


def _train(work_dir, data_root, *extra):
    return _run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG,
                 '--work-dir', str(work_dir), '--cfg-options',
                 f'train_dataloader.dataset.data_root={data_root}', *extra], cwd=ROOT)


@pytest.mark.slow
def test_train_two_epochs_then_resume_to_three(tmp_path, demo_data_root):
    data_root = demo_data_root / 'imagenet'
    _train(tmp_path, data_root)
    checkpoint = torch.load(tmp_path / 'epoch_2.pth', weights_only=True)
    assert checkpoint['meta']['epoch'] == 2
    assert checkpoint['meta']['iter'] == 2 * ITERS_PER_EPOCH
    step_after_two = next(iter(checkpoint['optimizer']['state'].values()))['step']
    assert int(step_after_two) == 2 * ITERS_PER_EPOCH

    log = _train(tmp_path, data_root, 'train_cfg.max_epochs=3', '--resume')
    assert 'resumed epoch: 2' in log.lower().replace(',', '')
    resumed = torch.load(tmp_path / 'epoch_3.pth', weights_only=True)
    assert resumed['meta']['epoch'] == 3
    assert resumed['meta']['iter'] == 3 * ITERS_PER_EPOCH
    # AdamW state continued from the checkpoint: step count and moments carried over.
    state_after_three = next(iter(resumed['optimizer']['state'].values()))
    assert int(state_after_three['step']) == 3 * ITERS_PER_EPOCH
    history = resumed['message_hub']['log_scalars']['train/loss']
    assert len(history.data[0]) == 3 * ITERS_PER_EPOCH

    # load_from (weights only, fresh optimizer) also works.
    _train(tmp_path / 'finetune', data_root, 'train_cfg.max_epochs=1',
           f'load_from={tmp_path / "epoch_3.pth"}')


@pytest.mark.slow
def test_dist_train_two_cpu_processes(tmp_path, demo_data_root):
    env_python = f'PYTHON={sys.executable}'
    script = osp.join(ROOT, 'tools', 'dist_train.sh')
    log = _run(['env', env_python, 'PORT=29611', 'bash', script, CONFIG, '2',
                '--work-dir', str(tmp_path), '--cfg-options',
                f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}',
                'train_cfg.max_epochs=1'], cwd=ROOT)
    assert 'Distributed training: True' in log
    assert "type='MMDistributedDataParallel'" in log
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    # Each of the 2 ranks sees half of the images per epoch.
    images_per_rank = -(-NUM_IMAGES // 2)
    assert checkpoint['meta']['iter'] == -(-images_per_rank // BATCH)


@pytest.mark.slow
def test_amp_flag_trains_on_cpu(tmp_path, demo_data_root):
    log = _train(tmp_path, demo_data_root / 'imagenet', 'train_cfg.max_epochs=1', '--amp')
    assert 'CPUAutocastOptimWrapper' in log
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    assert checkpoint['meta']['epoch'] == 1


def _load_train_tool():
    import importlib.util

    spec = importlib.util.spec_from_file_location('train_tool', osp.join(ROOT, 'tools',
                                                                         'train.py'))
    train_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_tool)
    return train_tool


def _args(config, **overrides):
    import argparse

    return argparse.Namespace(**dict(
        dict(config=config, work_dir='/tmp', no_validate=False, launcher='none', amp=False,
             resume=None, auto_scale_lr=False, no_pin_memory=True,
             no_persistent_workers=True, cfg_options=None, epochs=None), **overrides))


@pytest.mark.parametrize('num_workers, persistent', [(0, False), (2, True)])
def test_persistent_workers_follow_num_workers_set_by_cfg_options(num_workers, persistent):
    """The CIM demo keeps its 2 workers; --cfg-options ...num_workers=0 turns that off
    (torch's DataLoader refuses persistent workers without workers)."""
    from mmengine.config import Config

    config = 'configs/cim/vit-t_demo.py'
    cfg = Config.fromfile(osp.join(ROOT, config))
    assert cfg.train_dataloader.persistent_workers and cfg.train_dataloader.num_workers == 2
    cfg = _load_train_tool().merge_args(cfg, _args(
        config, no_persistent_workers=False,
        cfg_options={'train_dataloader.num_workers': num_workers}))
    assert cfg.train_dataloader.num_workers == num_workers
    assert cfg.train_dataloader.persistent_workers is persistent


@pytest.mark.parametrize('config, collate', [
    ('tests/data/configs/tiny_mae.py', 'default_collate'),
    ('configs/cim/benchmarks/mask-rcnn_vit-t_fpn_demo.py', None),
    ('configs/cim/benchmarks/upernet_vit-t_demo.py', None),
])
def test_dataloaders_keep_the_collate_of_the_config_scope(config, collate):
    """mmpretrain configs get stacked batches; mmdet / mmseg keep the Runner's
    pseudo_collate (lists of variable-size images) unless they name one."""
    from mmengine.config import Config

    cfg = _load_train_tool().merge_args(Config.fromfile(osp.join(ROOT, config)),
                                        _args(config))
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(field) is not None:
            assert cfg[field].get('collate_fn', {}).get('type') == collate
