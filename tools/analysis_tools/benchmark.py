"""Benchmark pre-training configs: step time, images/s, peak memory, data throughput.

    python tools/analysis_tools/benchmark.py CONFIG [CONFIG ...] [--batch-size N]
        [--iters 10] [--warmup 3] [--amp [--amp-dtype float16|bfloat16]]
        [--device cpu|cuda] [--data-samples 20] [--out report.json]
        [--cfg-options k=v ...]

One config: prints one JSON object (see mmssl_ext/utils/benchmark.py for what is timed).
Several configs (a side-by-side comparison, e.g. ours against mmpretrain's
``mmpretrain::...`` config): each is measured in a fresh process with the same settings
and ``--cfg-options``, so peak memory is per config; prints ``{"runs": [...],
"relative_to_first": {...}}`` with each run's step time, images/s and peak memory
divided by the first config's.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from mmengine.config import DictAction

from mmssl_ext.utils.benchmark import benchmark

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
    parser.add_argument('--out', help='also write the JSON report to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config(s), as key=value pairs')
    return parser.parse_args(argv)


def compare(argv, configs):
    """Run this script once per config in a fresh process; collect the reports."""
    shared = list(argv)
    for config in configs:
        shared.remove(config)
    runs = []
    for config in configs:
        with tempfile.TemporaryDirectory(prefix='mmssl_compare_') as tmp:
            out = os.path.join(tmp, 'report.json')
            # the last --out wins: each run writes its own report
            subprocess.run([sys.executable, __file__, config, *shared, '--out', out],
                           check=True, stdout=subprocess.DEVNULL)
            with open(out) as f:
                runs.append(json.load(f))
    first = runs[0]
    ratios = {run['config']: {key: run[key] / first[key] for key in RATIO_KEYS}
              for run in runs}
    return dict(runs=runs, relative_to_first=ratios)


def main():
    argv = sys.argv[1:]
    args = parse_args(argv)
    if len(args.configs) > 1:
        report = compare(argv, args.configs)
    else:
        report = benchmark(args.configs[0], args.cfg_options, batch_size=args.batch_size,
                           iters=args.iters, warmup=args.warmup, amp=args.amp,
                           amp_dtype=args.amp_dtype, device=args.device,
                           data_samples=args.data_samples)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')


if __name__ == '__main__':
    main()
