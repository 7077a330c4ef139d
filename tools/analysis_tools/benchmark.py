"""Benchmark pre-training configs: step time, images/s, peak memory, data throughput.

    python tools/analysis_tools/benchmark.py CONFIG [CONFIG ...] [--batch-size N]
        [--iters 10] [--warmup 3] [--amp [--amp-dtype float16|bfloat16]]
        [--device cpu|cuda] [--data-samples 20] [--workers 0] [--launcher none|pytorch]
        [--out report.json]
        [--repeats 1] [--retries 2] [--max-foreign-cores 0.25]
        [--max-wait-fraction 0.05] [--flops] [--sdpa-backends flash,efficient]
        [--cfg-options k=v ...]

One config: prints one JSON object (see benchmark_steps.py beside this script for what is timed).
Every timed step is watched by ``load_monitor.LoadMonitor``: the report's ``steps`` hold
each step's own CPU time, run-queue wait and the machine's foreign load, ``load``
summarises them, and a step another process disturbed is re-run up to ``--retries``
times; ``load.disturbed`` says whether any step still was. Figures from a report with
``load.disturbed`` true are not publishable.

Several configs, or ``--repeats`` > 1 (a side-by-side comparison, e.g. ours against
mmpretrain's ``mmpretrain::...`` config): each run is a fresh process with the same
settings and ``--cfg-options``, and the configs alternate over the repetitions (ABBA...:
drift of the machine hits both alike); prints ``{"runs": [...],
"relative_to_first": {...}}`` with, per config, the median of its per-repetition ratios
to the first config's run of the same repetition (step time, images/s, peak memory) and
their spread (min, max, quartiles), each config's step time over its repetitions
(``step_time_median_s``: median, min, max, quartiles) and ``disturbed_runs``.
"""
import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile

from load_monitor import LoadMonitor
from mmengine.config import DictAction
from mmengine.dist import get_rank

from benchmark_steps import benchmark

RATIO_KEYS = ('step_time_median_s', 'images_per_s', 'peak_memory_mb')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark pre-training configs')
    parser.add_argument('configs', nargs='+', help='pre-training config(s)')
    parser.add_argument('--batch-size', type=int, help='override the per-GPU batch size')
    parser.add_argument('--iters', type=int, default=10, help='timed training steps')
    parser.add_argument('--warmup', type=int, default=3, help='untimed warm-up steps')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: AmpOptimWrapper on CUDA, bf16 autocast on CPU')
    parser.add_argument('--amp-dtype', choices=['float16', 'bfloat16'],
                        help='autocast dtype (default: float16 on CUDA, bfloat16 on CPU)')
    parser.add_argument('--device', help='cpu or cuda (default: cuda when available)')
    parser.add_argument('--data-samples', type=int, default=20,
                        help='samples timed through the data pipeline (one worker)')
    parser.add_argument('--workers', type=int, default=0,
                        help='data-loader workers that load the batches before timing')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none',
                        help='pytorch: one rank of a torchrun job (DDP, gloo on CPU); rank '
                        '0 reports')
    parser.add_argument('--out', help='also write the JSON report to this file')
    parser.add_argument('--repeats', type=int, default=1,
                        help='repetitions of each config, alternating, each a fresh process')
    parser.add_argument('--retries', type=int, default=2,
                        help='re-runs of a timed step that another process disturbed')
    parser.add_argument('--max-foreign-cores', type=float, default=0.25,
                        help='foreign CPU load (cores) that, with waiting, disturbs a step')
    parser.add_argument('--max-wait-fraction', type=float, default=0.05,
                        help='run-queue wait / wall time that, with foreign load, disturbs')
    parser.add_argument('--flops', action='store_true',
                        help='count the FLOPs of one more step (FlopCounterMode)')
    parser.add_argument('--sdpa-backends',
                        help='restrict scaled_dot_product_attention to these backends '
                        '(comma-separated: flash, efficient, cudnn, math); a step that '
                        'needs another one fails')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config(s), as key=value pairs')
    return parser.parse_args(argv)


def _spread(values):
    """Median, min, max and quartiles of a list of ratios."""
    if len(values) == 1:
        quartiles = [values[0]] * 2
    else:
        q1, _, q3 = statistics.quantiles(values, n=4, method='inclusive')
        quartiles = [q1, q3]
    return dict(median=statistics.median(values), min=min(values), max=max(values),
                iqr=quartiles, n=len(values))


def compare(argv, configs, repeats):
    """Run this script once per config and repetition in a fresh process, alternating
    the order of the configs; collect the reports and the ratios to the first config."""
    shared = list(argv)
    for config in configs:
        shared.remove(config)
    runs = {config: [] for config in configs}
    for repeat in range(repeats):
        for config in (configs if repeat % 2 == 0 else configs[::-1]):
            with tempfile.TemporaryDirectory(prefix='mmssl_compare_') as tmp:
                out = os.path.join(tmp, 'report.json')
                # the last --out wins: each run writes its own report
                subprocess.run([sys.executable, __file__, config, *shared, '--repeats', '1',
                                '--out', out], check=True, stdout=subprocess.DEVNULL)
                with open(out) as f:
                    runs[config].append(dict(json.load(f), repeat=repeat))
    first = runs[configs[0]]
    ratios = {config: {key: _spread([run[key] / base[key]
                                     for run, base in zip(runs[config], first)])
                       for key in RATIO_KEYS}
              for config in configs}
    disturbed = [dict(config=run['config'], repeat=run['repeat'])
                 for config in configs for run in runs[config] if run['load']['disturbed']]
    step_times = {config: _spread([run['step_time_median_s'] for run in runs[config]])
                  for config in configs}
    return dict(runs=[run for config in configs for run in runs[config]], repeats=repeats,
                relative_to_first=ratios, step_time_median_s=step_times,
                disturbed_runs=disturbed)


def _sdpa_backends(names):
    """A context restricting SDPA to ``names`` (comma-separated), or a no-op."""
    if not names:
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel
    table = dict(flash=SDPBackend.FLASH_ATTENTION, efficient=SDPBackend.EFFICIENT_ATTENTION,
                 cudnn=SDPBackend.CUDNN_ATTENTION, math=SDPBackend.MATH)
    return sdpa_kernel([table[name.strip()] for name in names.split(',')])


def main():
    argv = sys.argv[1:]
    args = parse_args(argv)
    if args.repeats < 1:
        raise ValueError(f'--repeats must be >= 1, got {args.repeats}')
    if len(args.configs) > 1 or args.repeats > 1:
        report = compare(argv, args.configs, args.repeats)
    else:
        monitor = LoadMonitor(args.max_foreign_cores, args.max_wait_fraction)
        with _sdpa_backends(args.sdpa_backends):
            report = benchmark(args.configs[0], args.cfg_options, batch_size=args.batch_size,
                               iters=args.iters, warmup=args.warmup, amp=args.amp,
                               amp_dtype=args.amp_dtype, device=args.device,
                               data_samples=args.data_samples, monitor=monitor,
                               max_retries=args.retries, count_flops=args.flops,
                               workers=args.workers, launcher=args.launcher)
        report['sdpa_backends'] = args.sdpa_backends
    if report.get('world_size', 1) > 1 and get_rank() != 0:
        return
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()
