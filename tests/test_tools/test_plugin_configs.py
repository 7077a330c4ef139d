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

CLASSIFIER = '''
_base_ = ['mmpretrain::_base_/default_runtime.py']
custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, num_stages=2, strides=(1, 2), dilations=(1, 1),
                  out_indices=(1, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=128,
              loss=dict(type='CrossEntropyLoss')))
data_preprocessor = dict(num_classes=10, mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], to_rgb=True)
dataset = dict(type='CustomDataset', data_root={data_root!r}, ann_file='meta/train.txt',
               data_prefix='train',
               pipeline=[dict(type='LoadImageFromFile'), dict(type='ResizeEdge', scale=40),
                         dict(type='CenterCrop', crop_size=32), dict(type='PackInputs')])
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False, dataset=dataset,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        collate_fn=dict(type='default_collate'))
test_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False, dataset=dataset,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       collate_fn=dict(type='default_collate'))
test_evaluator = dict(type='Accuracy', topk=(1, ))
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=2, milestones=[1],
                        gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=1)
default_hooks = dict(logger=dict(interval=1))
'''


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
        print('epoch', checkpoint['meta']['epoch'])
    ''')
    return _run([sys.executable, '-c', script], cwd=ROOT)


@pytest.mark.slow
@pytest.mark.parametrize('tools', ['mmssl_ext', 'mmpretrain'])
def test_stock_mmpretrain_config_saves_resumes_and_tests(tools, tmp_path, demo_data_root):
    config = tmp_path / 'user_classifier.py'
    config.write_text(CLASSIFIER.format(data_root=str(demo_data_root / 'imagenet')))
    work_dir = tmp_path / 'work'
    train, test = (osp.join(_tools(tools), name) for name in ('train.py', 'test.py'))

    _run([sys.executable, train, str(config), '--work-dir', str(work_dir)], cwd=tmp_path)
    assert 'epoch 1' in _load_in_fresh_process(work_dir / 'epoch_1.pth')
    log = _run([sys.executable, train, str(config), '--work-dir', str(work_dir), '--resume',
                '--cfg-options', 'train_cfg.max_epochs=2'], cwd=tmp_path)
    assert 'resumed epoch: 1' in log.lower().replace(',', '')
    resumed = torch.load(work_dir / 'epoch_2.pth', weights_only=True)
    assert resumed['meta']['epoch'] == 2
    # the MultiStepLR milestone at epoch 1 was restored and applied: lr 0.01 -> 0.001
    assert resumed['optimizer']['param_groups'][0]['lr'] == pytest.approx(0.001)
    log = _run([sys.executable, test, str(config), str(work_dir / 'epoch_2.pth'),
                '--work-dir', str(tmp_path / 'test')], cwd=tmp_path)
    assert re.search(r'accuracy/top1: \d', log)
