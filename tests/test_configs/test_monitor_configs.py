"""The k-NN and collapse monitors are off in the paper configs, on in the small-scale ones."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MONITORS = {'KNNMonitorHook', 'CollapseMonitorHook'}
SMALL_SCALE = {
    'pqcl/vit-t_small-scale_fmnist.py': MONITORS,
    'cim/vit-t_small-scale_fmnist.py': {'KNNMonitorHook'},
    'cae/vit-t_small-scale_fmnist.py': {'KNNMonitorHook'},
    'cae/mae_vit-t_small-scale_fmnist.py': {'KNNMonitorHook'},
    'pqcl/ibot_vit-t_small-scale_fmnist.py': MONITORS,
    'pqcl/dino_vit-t_small-scale_fmnist.py': MONITORS,
    'pqcl/mocov3_vit-t_small-scale_fmnist.py': {'KNNMonitorHook'},  # no teacher head
    'resim/r18_small-scale_fmnist.py': {'KNNMonitorHook'},
    'resim/mocov2_r18_small-scale_fmnist.py': {'KNNMonitorHook'},
    'resim/mmpretrain-mocov2_r18_small-scale_fmnist.py': {'KNNMonitorHook'},
}
PAPER = sorted(osp.relpath(path, osp.join(ROOT, 'configs'))
               for algo in ('cim', 'cae', 'pqcl', 'resim')
               for path in glob.glob(osp.join(ROOT, 'configs', algo, '*.py'))
               if 'small-scale' not in path and 'demo' not in path)


def _hook_types(name):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    return {hook['type'] for hook in cfg.get('custom_hooks', None) or []}


@pytest.mark.parametrize('name', PAPER)
def test_paper_configs_have_no_monitors(name):
    assert not _hook_types(name) & MONITORS


@pytest.mark.parametrize('name', sorted(SMALL_SCALE))
def test_small_scale_configs_monitor(name):
    assert _hook_types(name) & MONITORS == SMALL_SCALE[name]
