"""KNNMonitorHook in a real training run: the logged k-NN accuracy equals knn_scores on
the same model's features."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmpretrain.models import ClsDataPreprocessor

import mmssl_ext  # noqa: F401
from mmssl_ext.engine.hooks import KNNMonitorHook
from mmssl_ext.evaluation.knn import knn_scores, topk_accuracy
from mmssl_ext.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def _labelled_loader(data_root, shuffle=False):
    return dict(
        batch_size=4, num_workers=0, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        collate_fn=dict(type='default_collate'),
        dataset=dict(type='CustomDataset', data_root=str(data_root), data_prefix='train',
                     with_label=True,
                     pipeline=[dict(type='LoadImageFromFile'),
                               dict(type='Resize', scale=(64, 64)),
                               dict(type='PackInputs')]))


@pytest.mark.slow
def test_logged_knn_accuracy_equals_direct_knn(tmp_path, demo_data_root):
    data_root = demo_data_root / 'imagenet'
    cfg = Config.fromfile(osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_mae.py'))
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.dataset.data_root = str(data_root)
    cfg.train_cfg.max_epochs = 1
    cfg.custom_hooks = [dict(type='KNNMonitorHook', bank_dataloader=_labelled_loader(data_root),
                             query_dataloader=_labelled_loader(data_root), k=5)]
    runner = Runner.from_cfg(cfg)
    runner.train()

    logged = runner.message_hub.get_scalar('train/knn/top1')
    assert len(logged.data[0]) == 1  # once, after the only epoch

    # Independent extraction: the trained model's class tokens of every labelled image.
    hook = next(h for h in runner.hooks if isinstance(h, KNNMonitorHook))
    model = runner.model.eval()
    preprocessor = ClsDataPreprocessor(mean=[123.675, 116.28, 103.53],
                                       std=[58.395, 57.12, 57.375], to_rgb=True)
    features, labels = [], []
    with torch.no_grad():
        for data in hook.bank_loader:
            inputs = preprocessor(data, False)['inputs']
            tokens = model.backbone(inputs, mask=None)[0]  # (B, 1 + L, C)
            features.append(tokens[:, 0])
            labels.append(torch.cat([s.gt_label for s in data['data_samples']]))
    features, labels = torch.cat(features), torch.cat(labels)
    assert len(features) == 30 and labels.unique().numel() == 10
    expected = topk_accuracy(knn_scores(features, labels, features, 10, k=5), labels)
    assert logged.current() == pytest.approx(expected['top1'])
    assert runner.message_hub.get_scalar('train/knn/top5').current() == pytest.approx(
        expected['top5'])
    # the bank scored against itself finds every image as its own nearest neighbour at
    # similarity 1 (weight e^(1/0.07)), so a correct implementation is far above chance
    assert expected['top1'] > 50
    # and the visualizer backend received it
    scalars = open(next(tmp_path.glob('*/vis_data/scalars.json'))).read()
    assert 'knn/top1' in scalars
    # a monitor pass leaves the training's random stream where it was (iterating a
    # dataloader draws a seed from it)
    state = torch.get_rng_state()
    for _ in hook.bank_loader:
        pass
    assert not torch.equal(torch.get_rng_state(), state)  # what the fork protects
    state = torch.get_rng_state()
    hook.evaluate(runner)
    assert torch.equal(torch.get_rng_state(), state)


def test_bad_parameters_fail_at_build():
    with pytest.raises(ValueError, match='interval'):
        KNNMonitorHook(dict(), dict(), interval=0)


@pytest.mark.slow
def test_two_gloo_processes_gather_the_whole_split(tmp_path, demo_data_root):
    """Each rank extracts half of the 30 images; the logged accuracy is that of all 30
    (recomputed here from the saved weights in one process)."""
    data_root = demo_data_root / 'imagenet'
    config = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_mae_knn.py')
    env = dict(os.environ, PYTHON=sys.executable, PORT='29631', OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), config, '2', '--work-dir',
         str(tmp_path), '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
         f'custom_hooks.0.bank_dataloader.dataset.data_root={data_root}',
         f'custom_hooks.0.query_dataloader.dataset.data_root={data_root}'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert 'Distributed training: True' in result.stdout + result.stderr

    cfg = Config.fromfile(config)
    model = MODELS.build(cfg.model)
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    model.load_state_dict(checkpoint['state_dict'])
    model.eval()
    cfg.custom_hooks[0].bank_dataloader.dataset.data_root = str(data_root)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        loader = Runner.build_dataloader(cfg.custom_hooks[0].bank_dataloader)
    preprocessor = ClsDataPreprocessor(mean=[123.675, 116.28, 103.53],
                                       std=[58.395, 57.12, 57.375], to_rgb=True)
    features, labels = [], []
    with torch.no_grad():
        for data in loader:
            tokens = model.backbone(preprocessor(data, False)['inputs'], mask=None)[0]
            features.append(tokens[:, 0])
            labels.append(torch.cat([s.gt_label for s in data['data_samples']]))
    features, labels = torch.cat(features), torch.cat(labels)
    assert len(features) == 30
    expected = topk_accuracy(knn_scores(features, labels, features, 10, k=5), labels)
    logged = [json.loads(line) for line in
              open(next(tmp_path.glob('*/vis_data/scalars.json')))]
    top1 = [entry['knn/top1'] for entry in logged if 'knn/top1' in entry]
    assert top1 == [pytest.approx(expected['top1'], abs=1e-4)]
