"""Weighted k-NN (DINO / iBOT protocol) and linear probe of a frozen encoder.

    python tools/analysis_tools/knn_eval.py CONFIG [--checkpoint CKPT | --random-init |
        --raw-pixels] [--linear-probe] [--cfg-options ...] [--out result.json]
        [--precise-bn N] [--seed S]

The config (see configs/*/benchmarks/*knn*.py) defines ``model`` (a backbone with its
``init_cfg``; its last output is a (B, D) feature, e.g. a ViT class token, or a
(B, C, H, W) map, e.g. a ResNet's C5, globally average-pooled), ``data_preprocessor``,
``train_dataloader`` / ``val_dataloader`` (labelled, test-time pipeline) and ``knn =
dict(k=(10, 20, 100, 200), temperature=0.07)``. ``--checkpoint`` overrides
``model.init_cfg.checkpoint``. Features of both sets are extracted in one process,
L2-normalised, and every validation image is classified by the similarity-weighted
votes of its k nearest training images; top-1 / top-5 accuracies are printed per k.
``--linear-probe`` also fits a multinomial logistic regression on the same (standardised)
training features, its L2 weight chosen on a held-out fifth of the training set
(:func:`mmssl_ext.evaluation.linear_probe_scores`), and scores the validation images.

Baselines: ``--random-init`` scores the config's model at its own initialisation
(``init_weights`` without the checkpoint, seeded by ``--seed``); ``--raw-pixels`` scores
the preprocessed input images themselves, flattened (no model).
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
from mmssl_ext.evaluation import (global_features, knn_scores, linear_probe_scores,
                                  recompute_bn_stats, topk_accuracy)


def parse_args():
    parser = argparse.ArgumentParser(description='k-NN evaluation of a frozen encoder')
    parser.add_argument('config', help='k-NN config')
    encoder = parser.add_mutually_exclusive_group()
    encoder.add_argument('--checkpoint', help='overrides model.init_cfg.checkpoint')
    encoder.add_argument('--random-init', action='store_true',
                         help="score the config's model at random initialisation")
    encoder.add_argument('--raw-pixels', action='store_true',
                         help='score the flattened preprocessed images (no model)')
    parser.add_argument('--seed', type=int, default=0, help='seed of --random-init')
    parser.add_argument('--linear-probe', action='store_true',
                        help='also score a linear probe on the frozen training features')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    parser.add_argument('--out', help='write the accuracies as JSON')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--precise-bn', type=int, default=0, metavar='N',
                        help='recompute BatchNorm statistics on N training batches first')
    return parser.parse_args()


def raw_pixels(inputs):
    """The "encoder" of the raw-pixel baseline: (B, 3, H, W) -> [(B, 3 * H * W)]."""
    return [inputs.flatten(1)]


@torch.no_grad()
def extract(backbone, preprocessor, dataloader, device):
    """(N, D) features and (N,) labels of a dataloader."""
    features, labels = [], []
    for batch in dataloader:
        data = preprocessor(batch, False)
        features.append(global_features(backbone(data['inputs'].to(device))[-1]).float())
        labels.append(torch.cat([s.gt_label for s in data['data_samples']]).to(device))
    return torch.cat(features), torch.cat(labels)


def build_encoder(cfg, args):
    """The backbone of ``cfg.model`` (pre-trained or at random init, in eval mode), or
    :func:`raw_pixels`."""
    if args.raw_pixels:
        return raw_pixels
    if args.random_init:
        torch.manual_seed(args.seed)
        cfg.model.init_cfg = None
    elif not cfg.model.get('init_cfg', {}).get('checkpoint'):
        raise ValueError('no checkpoint: pass --checkpoint (or --random-init / '
                         '--raw-pixels) or set model.init_cfg.checkpoint')
    backbone = MODELS.build(cfg.model)
    backbone.init_weights()
    backbone.to(args.device)
    backbone.eval()  # not chained: mmpretrain backbones' train() returns None
    return backbone


def score(cfg, args, train, val):
    """k-NN accuracies per k (and the linear probe's) of (features, labels) pairs."""
    train_features, train_labels = train
    val_features, val_labels = val
    num_classes = int(max(train_labels.max(), val_labels.max())) + 1
    results = {}
    for k in cfg.knn.k:
        scores = knn_scores(train_features, train_labels, val_features, num_classes,
                            k=min(k, len(train_features)), temperature=cfg.knn.temperature)
        results[f'{k}-NN'] = topk_accuracy(scores, val_labels)
    if args.linear_probe:
        scores, probe = linear_probe_scores(train_features.cpu(), train_labels.cpu(),
                                            val_features.cpu(), num_classes)
        results['linear'] = dict(topk_accuracy(scores, val_labels.cpu()),
                                 weight_decay=probe.weight_decay)
    return results


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if args.checkpoint:
        cfg.model.init_cfg.checkpoint = args.checkpoint
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    backbone = build_encoder(cfg, args)
    preprocessor = MODELS.build(cfg.data_preprocessor).to(args.device)
    if args.precise_bn > 0 and isinstance(backbone, torch.nn.Module):
        loader = Runner.build_dataloader(cfg.train_dataloader)
        raw = [batch for batch, _ in zip(loader, range(args.precise_bn))]
        batches = (preprocessor(batch, False)['inputs'].to(args.device) for batch in raw)
        print(f'precise BN: {recompute_bn_stats(backbone, batches)} BatchNorm layers '
              f'recomputed on {len(raw)} batches')
    train = extract(backbone, preprocessor, Runner.build_dataloader(cfg.train_dataloader),
                    args.device)
    val = extract(backbone, preprocessor, Runner.build_dataloader(cfg.val_dataloader),
                  args.device)
    results = score(cfg, args, train, val)
    for name, result in results.items():
        print(f'{name}: ' + ', '.join(f'{n} {v:.2f}' for n, v in result.items()
                                      if n.startswith('top')))
    results['num_train'], results['num_val'] = len(train[1]), len(val[1])
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


if __name__ == '__main__':
    main()
