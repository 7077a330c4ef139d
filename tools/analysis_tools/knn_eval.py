"""Weighted k-NN evaluation of a frozen encoder (DINO / iBOT protocol).

    python tools/analysis_tools/knn_eval.py CONFIG [--checkpoint CKPT]
        [--cfg-options ...] [--out result.json] [--precise-bn N]

The config (see configs/*/benchmarks/*knn*.py) defines ``model`` (a backbone with its
``init_cfg``; its last output is a (B, D) feature, e.g. a ViT class token, or a
(B, C, H, W) map, e.g. a ResNet's C5, globally average-pooled), ``data_preprocessor``,
``train_dataloader`` / ``val_dataloader`` (labelled, test-time pipeline) and ``knn =
dict(k=(10, 20, 100, 200), temperature=0.07)``. ``--checkpoint`` overrides
``model.init_cfg.checkpoint``. Features of both sets are extracted in one process,
L2-normalised, and every validation image is classified by the similarity-weighted
votes of its k nearest training images; top-1 / top-5 accuracies are printed per k.
``--precise-bn N`` first recomputes the BatchNorm running statistics on N batches of the
training set: use it for every encoder of a comparison that includes a randomly
initialised ResNet (whose BN layers are identities in eval mode otherwise).
"""
import argparse
import json

import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS
from mmssl_ext.evaluation import (global_features, knn_scores, recompute_bn_stats,
                                  topk_accuracy)


def parse_args():
    parser = argparse.ArgumentParser(description='k-NN evaluation of a frozen encoder')
    parser.add_argument('config', help='k-NN config')
    parser.add_argument('--checkpoint', help='overrides model.init_cfg.checkpoint')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    parser.add_argument('--out', help='write the accuracies as JSON')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--precise-bn', type=int, default=0, metavar='N',
                        help='recompute BatchNorm statistics on N training batches first')
    return parser.parse_args()


@torch.no_grad()
def extract(backbone, preprocessor, dataloader, device):
    """(N, D) features and (N,) labels of a dataloader."""
    features, labels = [], []
    for batch in dataloader:
        data = preprocessor(batch, False)
        features.append(global_features(backbone(data['inputs'].to(device))[-1]).float())
        labels.append(torch.cat([s.gt_label for s in data['data_samples']]).to(device))
    return torch.cat(features), torch.cat(labels)


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if args.checkpoint:
        cfg.model.init_cfg.checkpoint = args.checkpoint
    if not cfg.model.get('init_cfg', {}).get('checkpoint'):
        raise ValueError('no checkpoint: pass --checkpoint or set model.init_cfg.checkpoint')
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    backbone = MODELS.build(cfg.model)
    backbone.init_weights()
    backbone = backbone.to(args.device)
    backbone.eval()
    preprocessor = MODELS.build(cfg.data_preprocessor).to(args.device)
    if args.precise_bn > 0:
        loader = Runner.build_dataloader(cfg.train_dataloader)
        batches = (preprocessor(batch, False)['inputs'].to(args.device)
                   for batch, _ in zip(loader, range(args.precise_bn)))
        print(f'precise BN: {recompute_bn_stats(backbone, batches)} BatchNorm layers '
              f'recomputed on {args.precise_bn} batches')
    train_features, train_labels = extract(
        backbone, preprocessor, Runner.build_dataloader(cfg.train_dataloader), args.device)
    val_features, val_labels = extract(
        backbone, preprocessor, Runner.build_dataloader(cfg.val_dataloader), args.device)
    num_classes = int(max(train_labels.max(), val_labels.max())) + 1
    results = {}
    for k in cfg.knn.k:
        scores = knn_scores(train_features, train_labels, val_features, num_classes,
                            k=min(k, len(train_features)), temperature=cfg.knn.temperature)
        results[f'{k}-NN'] = topk_accuracy(scores, val_labels)
        print(f'{k}-NN: ' + ', '.join(f'{n} {v:.2f}' for n, v in results[f'{k}-NN'].items()))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
