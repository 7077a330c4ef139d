"""Plug-in configs: a stock mmpretrain / mmdet / mmseg config whose only addition is
``custom_imports = dict(imports=['mmssl_ext'])`` saves checkpoints that ``--resume`` and
``test.py`` load under torch's weights-only default, through our tools and through the
packages' own ``tools/train.py`` / ``tools/test.py`` (shipped in their wheels as
``<package>/.mim/tools/``, what ``mim train <package> CONFIG`` runs); no hook added."""
import importlib
import os
import os.path as osp
import re
import subprocess
import sys
import textwrap

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CLASSIFIER = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_classifier.py')


def data_options(data_root):
    """--cfg-options pointing tiny_classifier.py at an image folder."""
    return [f'{split}_dataloader.dataset.data_root={data_root}' for split in ('train', 'test')]


def _tools(package):
    if package == 'mmssl_ext':
        return osp.join(ROOT, 'tools')
    return osp.join(osp.dirname(importlib.import_module(package).__file__), '.mim', 'tools')


def _run(args, cwd):
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return result.stdout + result.stderr


def _load_in_fresh_process(path):
    """torch.load(weights_only=True) in a process that imports only mmssl_ext."""
    script = textwrap.dedent(f'''
        import torch, mmssl_ext
        checkpoint = torch.load({str(path)!r}, weights_only=True)
        print('epoch', checkpoint['meta']['epoch'], 'iter', checkpoint['meta']['iter'])
    ''')
    return _run([sys.executable, '-c', script], cwd=ROOT)


@pytest.mark.slow
@pytest.mark.parametrize('tools', ['mmssl_ext', 'mmpretrain'])
def test_stock_mmpretrain_config_saves_resumes_and_tests(tools, tmp_path, demo_data_root):
    data = data_options(demo_data_root / 'imagenet')
    work_dir = tmp_path / 'work'
    train, test = (osp.join(_tools(tools), name) for name in ('train.py', 'test.py'))

    _run([sys.executable, train, CLASSIFIER, '--work-dir', str(work_dir), '--cfg-options',
          *data], cwd=tmp_path)
    assert 'epoch 1' in _load_in_fresh_process(work_dir / 'epoch_1.pth')
    log = _run([sys.executable, train, CLASSIFIER, '--work-dir', str(work_dir), '--resume',
                '--cfg-options', 'train_cfg.max_epochs=2', *data], cwd=tmp_path)
    assert 'resumed epoch: 1' in log.lower().replace(',', '')
    resumed = torch.load(work_dir / 'epoch_2.pth', weights_only=True)
    assert resumed['meta']['epoch'] == 2
    # the MultiStepLR milestone at epoch 1 was restored and applied: lr 0.01 -> 0.001
    assert resumed['optimizer']['param_groups'][0]['lr'] == pytest.approx(0.001)
    log = _run([sys.executable, test, CLASSIFIER, str(work_dir / 'epoch_2.pth'),
                '--work-dir', str(tmp_path / 'test'), '--cfg-options', *data], cwd=tmp_path)
    assert re.search(r'accuracy/top1: \d', log)


@pytest.mark.slow
@pytest.mark.parametrize('package, config', [
    ('mmdet', 'configs/cim/benchmarks/mask-rcnn_vit-t_fpn_demo.py'),
    ('mmseg', 'configs/cim/benchmarks/upernet_vit-t_demo.py')])
def test_mmdet_mmseg_own_tools_save_resume_and_test(package, config, tmp_path, demo_data_root,
                                                    demo_pretrain_checkpoints):
    """Our demo transfer configs without our hook (custom_hooks=[]): what is left is a
    stock mmdet / mmseg config plus custom_imports, run by the package's own tools."""
    pytest.importorskip(package)
    options = ['custom_hooks=[]',
               f'model.backbone.init_cfg.checkpoint={demo_pretrain_checkpoints["cim"]}']
    if package == 'mmseg':
        root = demo_data_root / 'ade' / 'ADEChallengeData2016'
        options += [f'{split}_dataloader.dataset.data_root={root}'
                    for split in ('train', 'val', 'test')]
    else:
        root = demo_data_root / 'coco'
        options += [f'{split}_dataloader.dataset.data_root={root}/'
                    for split in ('train', 'val', 'test')]
        options += [f'{split}_evaluator.ann_file={root}/annotations/instances_val2017.json'
                    for split in ('val', 'test')]
    work_dir = tmp_path / 'work'
    train, test = (osp.join(_tools(package), name) for name in ('train.py', 'test.py'))
    config = osp.join(ROOT, config)
    _run([sys.executable, train, config, '--work-dir', str(work_dir), '--cfg-options',
          *options], cwd=tmp_path)
    assert 'iter 4' in _load_in_fresh_process(work_dir / 'iter_4.pth')
    log = _run([sys.executable, train, config, '--work-dir', str(work_dir), '--resume',
                '--cfg-options', *options, 'train_cfg.max_iters=8', 'train_cfg.val_interval=8'],
               cwd=tmp_path)
    assert 'resumed epoch: 0, iter: 4' in log
    assert torch.load(work_dir / 'iter_8.pth', weights_only=True)['meta']['iter'] == 8
    _run([sys.executable, test, config, str(work_dir / 'iter_8.pth'), '--work-dir',
          str(tmp_path / 'test'), '--cfg-options', *options], cwd=tmp_path)
