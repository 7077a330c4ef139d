"""tools/test.py --show-dir: each scope's visualization hook gets the arguments it takes,
and mmdet / mmseg demo configs write their pictures."""
import glob
import importlib
import inspect
import os
import os.path as osp
import runpy
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = runpy.run_path(osp.join(ROOT, 'tools', 'test.py'))

HOOKS = {'VisualizationHook': 'mmpretrain.engine.hooks',
         'DetVisualizationHook': 'mmdet.engine.hooks',
         'SegVisualizationHook': 'mmseg.engine.hooks'}


@pytest.mark.parametrize('hook_type', sorted(HOOKS))
def test_show_dir_sets_only_arguments_the_hook_takes(hook_type, tmp_path):
    cfg = Config(dict(default_hooks=dict(visualization=dict(type=hook_type)),
                      visualizer=dict(type='Visualizer')))
    TOOL['show_predictions'](cfg, str(tmp_path))
    hook = cfg.default_hooks.visualization
    module = pytest.importorskip(HOOKS[hook_type])
    accepted = inspect.signature(getattr(module, hook_type).__init__).parameters
    assert set(hook) - {'type'} <= set(accepted), hook
    if hook_type == 'VisualizationHook':
        assert hook.enable and hook.out_dir == str(tmp_path)
    elif hook_type == 'DetVisualizationHook':
        assert hook.draw and hook.test_out_dir == str(tmp_path)
    else:
        assert hook.draw and cfg.visualizer.save_dir == str(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize('config', ['configs/cim/benchmarks/mask-rcnn_vit-t_fpn_demo.py',
                                    'configs/cim/benchmarks/upernet_vit-t_demo.py'])
def test_show_dir_draws_detection_and_segmentation(config, tmp_path, demo_data_root):
    scope = 'mmseg' if 'upernet' in config else 'mmdet'
    pytest.importorskip(scope)
    registry = importlib.import_module(f'{scope}.registry')
    from mmengine.registry import DefaultScope
    import mmssl_ext  # noqa: F401

    cfg = Config.fromfile(osp.join(ROOT, config))
    with DefaultScope.overwrite_default_scope(scope):
        model = registry.MODELS.build(cfg.model)
    checkpoint = tmp_path / 'model.pth'
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, checkpoint)
    if scope == 'mmseg':
        root = demo_data_root / 'ade' / 'ADEChallengeData2016'
        options = [f'{split}_dataloader.dataset.data_root={root}'
                   for split in ('train', 'val', 'test')]
    else:
        root = demo_data_root / 'coco'
        options = [f'test_dataloader.dataset.data_root={root}/',
                   f'test_evaluator.ann_file={root}/annotations/instances_val2017.json']
    show_dir = tmp_path / 'show'
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'test.py'), osp.join(ROOT, config),
         str(checkpoint), '--work-dir', str(tmp_path / 'work'), '--show-dir', str(show_dir),
         '--cfg-options', *options], cwd=ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'), check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    pictures = glob.glob(str(show_dir / '**' / '*.png'), recursive=True) + glob.glob(
        str(show_dir / '**' / '*.jpg'), recursive=True)
    assert pictures, os.listdir(tmp_path)
