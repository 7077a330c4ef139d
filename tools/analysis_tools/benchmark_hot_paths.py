"""Time two hot paths on their own, with the load monitor of ``benchmark.py``.

    python tools/analysis_tools/benchmark_hot_paths.py ema CONFIG [--repeats 20]
    python tools/analysis_tools/benchmark_hot_paths.py photometric [--batch 64]
        [--size 224] [--repeats 20]

``ema``: one momentum-target update of the config's algorithm, two ways: the fused
``MomentumSelfSupervisor.update_target`` (``torch._foreach_*`` over all parameters)
and the per-parameter loop of mmengine's averaged model (``update_parameters`` of each
target, the way mmpretrain's ``CosineEMA`` updates a teacher). Both run on the same
model, alternating, after one untimed update each; the report gives the median of each
and their ratio.

``photometric``: one ``BatchPhotometricAugment`` call (built from the registry, PQCL's
first global-view settings by default) on a (batch, 3, size, size) batch. Run it with
``PYTHONPATH`` at another checkout of mmssl_ext to compare two versions of the module.

Each timed call is watched by ``load_monitor.py``; a call another process disturbed is
re-run up to ``--retries`` times, and ``load.disturbed`` says whether one stayed
disturbed (then the figures are not publishable). Prints the report as JSON.
"""
import argparse
import json
import statistics
import time

import torch
from load_monitor import LoadMonitor
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope

import mmssl_ext  # noqa: F401
from mmssl_ext.registry import MODELS


def parse_args():
    parser = argparse.ArgumentParser(description='Time the EMA update / batch augment')
    parser.add_argument('path', choices=['ema', 'photometric'])
    parser.add_argument('config', nargs='?', help='pre-training config (ema)')
    parser.add_argument('--batch', type=int, default=64, help='images (photometric)')
    parser.add_argument('--size', type=int, default=224, help='image side (photometric)')
    parser.add_argument('--repeats', type=int, default=20)
    parser.add_argument('--retries', type=int, default=2,
                        help='re-runs of a timed call that another process disturbed')
    args = parser.parse_args()
    if args.path == 'ema' and args.config is None:
        parser.error('ema needs a CONFIG')
    return args


def timed_calls(calls: dict, repeats: int, retries: int) -> dict:
    """Median ms of each ``calls[name]()``, alternating, with the load records."""
    monitor, records = LoadMonitor(), []
    times = {name: [] for name in calls}
    for name, call in calls.items():
        call()  # warm-up
    for _ in range(repeats):
        for name, call in calls.items():
            for attempt in range(1 + retries):
                load = monitor.start()
                start = time.perf_counter()
                call()
                seconds = time.perf_counter() - start
                record = monitor.stop(load)
                if not record['disturbed']:
                    break
            records.append(dict(record, attempts=attempt + 1))
            times[name].append(seconds)
    report = {f'{name}_ms_median': statistics.median(ts) * 1e3 for name, ts in times.items()}
    report['load'] = monitor.summary(records)
    return report


def ema_calls(config: str) -> dict:
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmssl_ext'))
    model = MODELS.build(cfg.model)
    MessageHub.get_current_instance().update_info_dict(dict(iter=1, max_iters=100))
    pairs = model.momentum_targets()
    for target, source in pairs:  # past the first update, which copies
        target.update_parameters(source)

    def per_parameter_loop():
        with torch.no_grad():
            for target, source in pairs:
                target.update_parameters(source)

    num_params = sum(p.numel() for target, _ in pairs for p in target.module.parameters())
    return dict(fused=model.update_target, per_parameter_loop=per_parameter_loop), dict(
        config=config, target_parameters=num_params,
        target_tensors=sum(len(list(t.module.parameters())) for t, _ in pairs))


def photometric_calls(batch: int, size: int) -> dict:
    augment = MODELS.build(dict(type='BatchPhotometricAugment', blur_prob=1.0,
                                solarize_prob=0.))
    images = torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(0)) * 255
    generator = torch.Generator().manual_seed(1)
    return dict(augment=lambda: augment(images, generator)), dict(
        module=type(augment).__module__, batch=batch, size=size)


def main():
    args = parse_args()
    if args.path == 'ema':
        calls, context = ema_calls(args.config)
    else:
        calls, context = photometric_calls(args.batch, args.size)
    report = dict(path=args.path, threads=torch.get_num_threads(), repeats=args.repeats,
                  **context, **timed_calls(calls, args.repeats, args.retries))
    if args.path == 'ema':
        report['loop_over_fused'] = (report['per_parameter_loop_ms_median']
                                     / report['fused_ms_median'])
    print(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
