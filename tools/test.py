"""Test (and evaluate) a checkpoint with mmssl_ext's modules available.

Works for mmpretrain (fine-tune / linear-probe benchmarks), mmdet and mmseg configs.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out FILE]
        [--out-item metrics|pred] [--amp] [--cfg-options k=v ...] [--launcher ...]
"""
import argparse
import os

import mmengine
from mmengine.config import Config, DictAction
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import mmssl_ext  # noqa: F401  (registers the plugin; weights-only checkpoint loading)
from mmssl_ext.utils.config import drop_inherited_scopes
from mmssl_ext.utils.launch import default_work_dir, setup_cpu_distributed


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save evaluation results')
    parser.add_argument('--out', help='file to dump predictions or metrics to')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help='what --out holds (default: predictions)')
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--show-dir', help='directory to save visualised predictions into')
    parser.add_argument(
        '--no-checkpoint-check',
        action='store_true',
        help='accept a checkpoint of another algorithm / architecture or with missing '
        'weights (CheckpointKindHook off)')
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
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out')
    return args


def show_predictions(cfg: Config, show_dir: str) -> None:
    """Switch the scope's visualization hook on, drawing into ``show_dir``.

    The three hooks take different arguments: mmpretrain's ``VisualizationHook``
    (``enable``, ``out_dir``), mmdet's ``DetVisualizationHook`` (``draw``,
    ``test_out_dir``) and mmseg's ``SegVisualizationHook`` (``draw``; the files go to
    the visualizer's ``save_dir``), as each package's own ``tools/test.py`` sets them;
    mmseg's hook also gets ``interval=1`` so that every test image is drawn.
    """
    visualization = cfg.default_hooks.get('visualization')
    if visualization is None:
        raise ValueError('--show-dir needs default_hooks.visualization in the config')
    hook_type = visualization.type.split('.')[-1]
    if hook_type == 'DetVisualizationHook':
        visualization.update(draw=True, test_out_dir=show_dir)
    elif hook_type == 'SegVisualizationHook':  # it draws every `interval`-th batch only
        visualization.update(draw=True, interval=1)
        cfg.visualizer.save_dir = show_dir
    else:
        visualization.update(enable=True, out_dir=show_dir)


def merge_args(cfg: Config, args) -> Config:
    """Merge command-line arguments into the config."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = default_work_dir(args.config)
    cfg.load_from = args.checkpoint
    if args.amp:
        cfg.test_cfg.fp16 = True
    if args.show_dir is not None:
        show_predictions(cfg, args.show_dir)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.no_checkpoint_check:
        for hook in [*cfg.get('default_hooks', {}).values(), *cfg.get('custom_hooks', [])]:
            if hook and str(hook.get('type', '')).split('.')[-1] == 'CheckpointKindHook':
                hook.update(check_kind=False, check_keys=False)
    return cfg


def main():
    args = parse_args()
    cfg = merge_args(drop_inherited_scopes(Config.fromfile(args.config)), args)
    setup_cpu_distributed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.out and args.out_item in ('pred', None):
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if args.out and args.out_item == 'metrics':
        mmengine.dump(metrics, args.out)


if __name__ == '__main__':
    main()
