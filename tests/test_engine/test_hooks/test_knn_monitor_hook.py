"""KNNMonitorHook in a real training run: the logged k-NN accuracy equals knn_scores on
the same model's features."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpretrain.models import ClsDataPreprocessor

import mmssl_ext  # noqa: F401
from mmssl_ext.engine.hooks import KNNMonitorHook
from mmssl_ext.evaluation.knn import knn_scores, topk_accuracy

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


def test_bad_parameters_fail_at_build():
    with pytest.raises(ValueError, match='interval'):
        KNNMonitorHook(dict(), dict(), interval=0)
