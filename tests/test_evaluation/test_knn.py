"""Weighted k-NN classification and the k-NN evaluation tool."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmssl_ext.evaluation import global_features, knn_scores, recompute_bn_stats, topk_accuracy

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_votes_match_hand_computation():
    train = torch.tensor([[1., 0.], [0., 2.], [1., 1.]])
    labels = torch.tensor([0, 1, 1])
    test = torch.tensor([[2., 0.1]])
    scores = knn_scores(train, labels, test, num_classes=3, k=2, temperature=0.5)
    unit = test[0] / test[0].norm()
    sims = [float(unit @ (t / t.norm())) for t in train]  # nearest: sample 0, then 2
    expected = [math.exp(sims[0] / 0.5), math.exp(sims[2] / 0.5), 0.]
    assert torch.allclose(scores, torch.tensor([expected]), atol=1e-5)
    assert topk_accuracy(scores, torch.tensor([0]), topk=(1, 2)) == {'top1': 100.,
                                                                     'top2': 100.}


def test_global_features_pool_maps_and_keep_vectors():
    maps = torch.arange(2 * 3 * 2 * 2, dtype=torch.float).view(2, 3, 2, 2)
    pooled = global_features(maps)
    assert pooled.shape == (2, 3)
    assert pooled[1, 2] == (maps[1, 2, 0, 0] + maps[1, 2, 0, 1] + maps[1, 2, 1, 0]
                            + maps[1, 2, 1, 1]) / 4
    vectors = torch.randn(4, 5)
    assert global_features(vectors) is vectors
    with pytest.raises(ValueError, match='got shape'):
        global_features(torch.randn(2, 3, 4))


def test_precise_bn_averages_the_batch_statistics():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 1), torch.nn.BatchNorm2d(3))
    batches = [torch.randn(4, 2, 3, 3) + i for i in range(3)]
    with torch.no_grad():
        features = [model[0](batch) for batch in batches]
    assert recompute_bn_stats(model, batches) == 1
    norm = model[1]
    means = torch.stack([f.mean((0, 2, 3)) for f in features])
    variances = torch.stack([f.transpose(0, 1).flatten(1).var(1) for f in features])
    torch.testing.assert_close(norm.running_mean, means.mean(0))
    torch.testing.assert_close(norm.running_var, variances.mean(0))
    assert norm.momentum == 0.1 and not model.training


def test_bad_k_is_named():
    with pytest.raises(ValueError, match='k must be'):
        knn_scores(torch.randn(3, 2), torch.zeros(3, dtype=torch.long), torch.randn(1, 2), 2,
                   k=4)


@pytest.mark.slow
def test_tool_on_the_demo_folder(tmp_path, demo_data_root):
    from mmpretrain.models.backbones import VisionTransformer
    arch = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)
    torch.manual_seed(0)
    vit = VisionTransformer(arch=arch, img_size=64, patch_size=16)
    checkpoint = tmp_path / 'pqcl.pth'
    torch.save({'state_dict': {f'teacher_backbone.module.{k}': v
                               for k, v in vit.state_dict().items()}}, checkpoint)
    data = dict(_delete_=True, type='CustomDataset',
                data_root=str(demo_data_root / 'imagenet'), data_prefix='train',
                pipeline=[dict(type='LoadImageFromFile'),
                          dict(type='ResizeEdge', scale=64, edge='short'),
                          dict(type='CenterCrop', crop_size=64), dict(type='PackInputs')])
    config = tmp_path / 'knn.py'
    config.write_text(
        f"_base_ = ['{ROOT}/configs/pqcl/benchmarks/vit-small-p16_knn-in1k.py']\n"
        f"model = dict(arch=dict(_delete_=True, **{arch!r}), img_size=64)\n"
        f"train_dataloader = dict(batch_size=8, num_workers=0, dataset={data!r})\n"
        f"val_dataloader = dict(batch_size=8, num_workers=0, dataset={data!r})\n"
        f"knn = dict(k=(1, 20), temperature=0.07)\n")
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools', 'knn_eval.py'),
         str(config), '--checkpoint', str(checkpoint), '--out', str(tmp_path / 'r.json')],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads((tmp_path / 'r.json').read_text())
    assert results['1-NN'] == {'top1': 100., 'top5': 100.}  # every query finds itself
    # a top-5 hit includes the top-1 hit; accuracies are multiples of 100 / (images)
    num_images = len(list((demo_data_root / 'imagenet' / 'train').rglob('*.jpg')))
    top1, top5 = results['20-NN']['top1'], results['20-NN']['top5']
    assert top1 <= top5 <= 100.
    assert abs(top1 * num_images / 100 - round(top1 * num_images / 100)) < 1e-6


@pytest.mark.slow
def test_tool_scores_an_extracted_resnet(tmp_path, demo_data_root):
    """A ResNet (C5 maps, globally pooled) from an extracted file, loaded with
    prefix=None as the Fashion-MNIST k-NN config says."""
    from mmpretrain.models.backbones import ResNet
    torch.manual_seed(0)
    resnet = ResNet(depth=18, base_channels=8, out_indices=(3, ))
    resnet.init_weights()
    checkpoint = tmp_path / 'backbone.pth'
    torch.save({'meta': {}, 'state_dict': resnet.state_dict()}, checkpoint)
    data = dict(_delete_=True, type='CustomDataset',
                data_root=str(demo_data_root / 'imagenet'), data_prefix='train',
                pipeline=[dict(type='LoadImageFromFile'),
                          dict(type='Resize', scale=(64, 64)), dict(type='PackInputs')])
    config = tmp_path / 'knn.py'
    config.write_text(
        f"_base_ = ['{ROOT}/configs/resim/benchmarks/r18_knn-fmnist.py']\n"
        f"model = dict(base_channels=8)\n"
        f"train_dataloader = dict(batch_size=8, dataset={data!r})\n"
        f"val_dataloader = dict(batch_size=8, dataset={data!r})\n"
        f"knn = dict(k=(1, 20), temperature=0.07)\n")
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools', 'knn_eval.py'),
         str(config), '--checkpoint', str(checkpoint), '--out', str(tmp_path / 'r.json'),
         '--precise-bn', '2'],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    num_norms = sum(isinstance(m, torch.nn.BatchNorm2d) for m in resnet.modules())
    assert f'precise BN: {num_norms} BatchNorm layers recomputed on 2 batches' in log
    assert f'load model from: {checkpoint}' in log
    assert 'do not match exactly' not in log  # every key found without a prefix
    results = json.loads((tmp_path / 'r.json').read_text())
    assert results['1-NN']['top1'] == 100.  # every query finds itself in the memory
