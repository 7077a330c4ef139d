"""Overfit CIM on a few fixed images: how soon its decoder leaves the location prior.

Trains the model of a CIM config on ``--num-images`` fixed images (the first of the
sorted ``IMAGES``), with the exemplars, their maps and their augmentation redrawn every
step by the config's data preprocessor (the training path), AdamW at ``--lr`` (betas
0.9 / 0.95, ``--weight-decay`` on every trainable parameter; not the config's optimizer),
one EMA step of the target after each optimizer step. Every ``--log-interval`` steps it records
the mean over those steps of the batch's correlation cross-entropy (``ce``) and of the
location-only predictor's (``location_prior_ce``: every other map's per-pixel frequency,
:func:`mmssl_ext.models.utils.location_prior_ce`). A decoder that reads the exemplars
goes below the location prior; one that only learns where exemplars tend to lie stays
at it. Settings are switched with ``--cfg-options``, e.g. the exemplar flip off:
``data_preprocessor.exemplar_augment.flip_prob=0``.

    python tools/analysis_tools/cim_overfit_probe.py CONFIG IMAGES [IMAGES ...]
        [--num-images 16] [--steps 300] [--lr 2e-4] [--weight-decay 0.05]
        [--log-interval 50] [--seed 0] [--out probe.json] [--cfg-options ...]

Prints one line per record and writes them, with the settings, to ``--out``.
"""
import argparse
import json
import uuid

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MessageHub
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

import mmssl_ext  # noqa: F401
from mmssl_ext.utils.checkpoint_files import atomic_write
from mmssl_ext.utils.config import build_config_model
from mmssl_ext.utils.image import list_images, load_square_images


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Overfit CIM on a few fixed images')
    parser.add_argument('config', help='CIM pre-training config')
    parser.add_argument('images', nargs='+', help='image files or folders')
    parser.add_argument('--num-images', type=int, default=16,
                        help='the first N images (sorted) are the training set')
    parser.add_argument('--steps', type=int, default=300, help='optimizer steps')
    parser.add_argument('--lr', type=float, default=2e-4, help='AdamW learning rate')
    parser.add_argument('--weight-decay', type=float, default=0.05)
    parser.add_argument('--log-interval', type=int, default=50,
                        help='steps averaged into one record')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='JSON of the records (default: none)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config (as tools/train.py)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    for name in ('num_images', 'steps', 'log_interval'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {getattr(args, name)}')
    if args.lr <= 0:
        parser.error(f'--lr must be > 0, got {args.lr}')
    return args


def build_model(cfg: Config, device: str) -> torch.nn.Module:
    """The config's CIM model (with its data preprocessor), initialised, on ``device``."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = build_config_model(cfg)
    if not getattr(model.data_preprocessor, 'sample_on_device', False):
        raise ValueError('the config must use CIMDataPreprocessor(sample_on_device=True)')
    model.init_weights()
    return model.to(device)


def probe(model, bases: torch.Tensor, steps: int, lr: float, weight_decay: float,
          log_interval: int) -> list:
    """Train ``model`` on ``bases`` (B, 3, H, W) for ``steps`` steps.

    Returns:
        list[dict]: per ``log_interval`` steps (the last record may cover fewer): the
        last step, and the means of ``loss``, ``ce``, ``location_prior_ce`` and ``iou``.
    """
    hub = MessageHub.get_instance(f'cim_overfit_probe-{uuid.uuid4().hex}')
    hub.update_info('max_iters', steps)
    params = [param for param in model.parameters() if param.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95),
                                  weight_decay=weight_decay)
    model.train()
    keys = ('loss', 'ce', 'location_prior_ce', 'iou')
    records, sums, count = [], torch.zeros(len(keys), device=bases.device), 0
    for step in range(steps):
        hub.update_info('iter', step)
        data = model.data_preprocessor(
            dict(inputs=bases, data_samples=[DataSample() for _ in bases]), training=True)
        losses = model.loss(data['inputs'], data['data_samples'])
        optimizer.zero_grad(set_to_none=True)
        losses['loss'].backward()
        optimizer.step()
        model.update_target()
        sums += torch.stack([losses[key].detach().float() for key in keys])  # no host sync
        count += 1
        if count == log_interval or step == steps - 1:
            means = (sums / count).tolist()
            records.append(dict(step=step + 1, **dict(zip(keys, means))))
            sums, count = torch.zeros_like(sums), 0
    return records


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options or {})
    torch.manual_seed(args.seed)
    model = build_model(cfg, args.device)
    paths = list_images(args.images)[:args.num_images]
    if len(paths) < args.num_images:
        raise ValueError(f'--num-images {args.num_images}: only {len(paths)} image(s) in '
                         f'{args.images}')
    bases = load_square_images(paths, model.data_preprocessor.sampler.base_size)
    bases = bases.to(args.device)
    records = probe(model, bases, args.steps, args.lr, args.weight_decay,
                    args.log_interval)
    for record in records:
        print(f'step {record["step"]:5d}  ce {record["ce"]:.3f}  location-only '
              f'{record["location_prior_ce"]:.3f}  iou {record["iou"]:.3f}')
    if args.out:
        payload = dict(config=args.config, images=paths, steps=args.steps, lr=args.lr,
                       weight_decay=args.weight_decay, seed=args.seed,
                       cfg_options=args.cfg_options or {}, records=records)
        atomic_write(args.out, json.dumps(payload, indent=2).encode())
    return records


if __name__ == '__main__':
    main()
