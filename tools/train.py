"""Train a model with mmssl_ext's modules available (mmpretrain's train.py flags).

Works for mmssl_ext pre-training configs and for mmpretrain / mmdet / mmseg
configs (the plugin is imported here, whatever the config's ``custom_imports``); the
Runner is built in the config's ``default_scope``.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [auto|PATH]] [--amp]
        [--auto-scale-lr] [--epochs N] [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]
"""
import argparse
import os
from copy import deepcopy

import torch
from mmengine.config import Config, ConfigDict, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmssl_ext  # noqa: F401  (registers the plugin; weights-only checkpoint loading)
from mmssl_ext.utils.config import drop_inherited_scopes
from mmssl_ext.utils.epochs import rescale_epochs
from mmssl_ext.utils.launch import default_work_dir, setup_cpu_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint; without a path, from the '
        'latest checkpoint in the work directory')
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by actual / base batch size')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='disable pin_memory in the dataloaders')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='disable persistent_workers in the dataloaders')
    parser.add_argument(
        '--epochs',
        type=int,
        help='train for N epochs, with the schedulers, warm-ups and epoch-based hooks '
        'rescaled proportionally (mmssl_ext.utils.epochs.rescale_epochs); '
        '--cfg-options are applied afterwards')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg: Config, args) -> Config:
    """Merge command-line arguments into the config."""
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = default_work_dir(args.config)

    if args.amp and torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    elif args.amp:  # mmengine's AmpOptimWrapper refuses CPUs: bf16 autocast instead
        cfg.optim_wrapper.type = 'CPUAutocastOptimWrapper'

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True

    if args.epochs is not None:
        rescale_epochs(cfg, args.epochs)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # After --cfg-options: a loader set to num_workers=0 there cannot keep its workers.
    default_dataloader_cfg = ConfigDict(pin_memory=True, persistent_workers=True)
    if cfg.get('default_scope', 'mmpretrain') == 'mmpretrain':
        # mmpretrain batches stacked tensors; mmdet / mmseg keep the Runner's
        # pseudo_collate (lists of variable-size images for their preprocessors).
        default_dataloader_cfg.collate_fn = dict(type='default_collate')
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(field, None) is None:
            continue
        dataloader_cfg = deepcopy(default_dataloader_cfg)
        dataloader_cfg.update(cfg[field])
        if args.no_pin_memory:
            dataloader_cfg.pin_memory = False
        if args.no_persistent_workers or dataloader_cfg.get('num_workers', 0) == 0:
            dataloader_cfg.persistent_workers = False
        cfg[field] = dataloader_cfg

    return cfg


def main():
    args = parse_args()
    cfg = merge_args(drop_inherited_scopes(Config.fromfile(args.config)), args)
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
