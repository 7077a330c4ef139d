"""What the visualisers share: their command line and the model of a checkpoint.

Imported by the scripts of this folder (a scripts folder, not a package), as
tools/analysis_tools/benchmark.py imports load_monitor.py.
"""
import argparse

import torch
from mmengine.config import Config, DictAction

from mmssl_ext.utils.checkpoint_kind import load_checked
from mmssl_ext.utils.config import build_config_model


def visualiser_parser(description: str, config_help: str, out: str, seed_of: str,
                      measured: str, draws_help: str) -> argparse.ArgumentParser:
    """CONFIG CHECKPOINT IMAGE and the options every visualiser takes: ``--out``,
    ``--seed`` (of ``seed_of``), ``--eval-images`` (to measure ``measured`` on),
    ``--eval-draws``, ``--cfg-options``, ``--no-checkpoint-check``, ``--device``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help=config_help)
    parser.add_argument('checkpoint', help='checkpoint of that config (tools/train.py)')
    parser.add_argument('image', help='an image file')
    parser.add_argument('--out', default=out, help='output PNG')
    parser.add_argument('--seed', type=int, default=0, help=f'seed of the {seed_of}')
    parser.add_argument('--eval-images', nargs='+', default=None,
                        help=f'images or folders to measure {measured} on '
                        '(default: IMAGE); e.g. held-out images')
    parser.add_argument('--eval-draws', type=int, default=8, help=draws_help)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config (as tools/train.py)')
    parser.add_argument('--no-checkpoint-check', action='store_true',
                        help='load a checkpoint of another kind (what fits)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser


def load_model(args: argparse.Namespace):
    """The config (with ``--cfg-options``) and its model holding the checkpoint's
    weights (checked to be of the config's kind unless ``--no-checkpoint-check``), on
    ``--device``, in eval mode."""
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options or {})
    model = build_config_model(cfg)
    load_checked(model, args.checkpoint, check=not args.no_checkpoint_check)
    return cfg, model.to(args.device).eval()
