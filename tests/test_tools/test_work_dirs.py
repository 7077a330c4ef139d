"""Default work directories are unique per config path: work_dirs/<algo>/<name>."""
import argparse
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from utils.training import ROOT, run, train_cmd

from mmssl_ext.utils.launch import default_work_dir


@pytest.mark.parametrize('config, expected', [
    ('configs/cim/vit-t_demo.py', 'work_dirs/cim/vit-t_demo'),
    ('configs/cae/vit-t_demo.py', 'work_dirs/cae/vit-t_demo'),
    ('configs/cim/benchmarks/mask-rcnn_vit-t_fpn_demo.py',
     'work_dirs/cim/benchmarks/mask-rcnn_vit-t_fpn_demo'),
    ('/site-packages/mmssl_ext/.mim/configs/pqcl/vit-t_demo.py', 'work_dirs/pqcl/vit-t_demo'),
    ('/data/experiments/cim/my_run.py', 'work_dirs/cim/my_run'),
])
def test_default_work_dir(config, expected):
    assert default_work_dir(config) == expected


def _tool_module(name):
    spec = importlib.util.spec_from_file_location(f'{name}_tool',
                                                  osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_test_tool_uses_the_same_work_dir():
    config = osp.join(ROOT, 'configs/cae/vit-t_demo.py')
    args = argparse.Namespace(config=config, work_dir=None, checkpoint='x.pth', amp=False,
                              show_dir=None, cfg_options=None, launcher='none',
                              no_checkpoint_check=False)
    cfg = _tool_module('test').merge_args(Config.fromfile(config), args)
    assert cfg.work_dir == 'work_dirs/cae/vit-t_demo'


@pytest.mark.slow
def test_same_named_configs_of_two_algorithms_do_not_share_checkpoints(
        tmp_path, demo_data_root):
    """--resume of the CAE demo after a CIM demo run of the same file name starts fresh."""
    options = ['--cfg-options',
               f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}',
               'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
               'train_cfg.max_epochs=1', 'default_hooks.checkpoint.interval=1']
    run(train_cmd(f'{ROOT}/configs/cim/vit-t_demo.py', *options), cwd=tmp_path)
    cim = tmp_path / 'work_dirs' / 'cim' / 'vit-t_demo' / 'epoch_1.pth'
    cim_bytes = cim.read_bytes()

    log = run(train_cmd(f'{ROOT}/configs/cae/vit-t_demo.py', '--resume', *options),
              cwd=tmp_path).log
    assert 'resumed epoch' not in log
    cae = torch.load(tmp_path / 'work_dirs' / 'cae' / 'vit-t_demo' / 'epoch_1.pth',
                     weights_only=True)
    assert 'ContextAutoencoder' in cae['meta']['cfg']
    assert cim.read_bytes() == cim_bytes
