"""Benchmark a pre-training config: step time, images/s, peak memory, data throughput.

    python tools/analysis_tools/benchmark.py CONFIG [--batch-size N] [--iters 10]
        [--warmup 3] [--amp [--amp-dtype float16|bfloat16]] [--device cpu|cuda]
        [--data-samples 20] [--out report.json] [--cfg-options k=v ...]

Prints one JSON object (see mmssl_ext/utils/benchmark.py for what is timed).
"""
import argparse
import json

from mmengine.config import DictAction

from mmssl_ext.utils.benchmark import benchmark


def parse_args():
    parser = argparse.ArgumentParser(description='Benchmark a pre-training config')
    parser.add_argument('config', help='pre-training config')
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
                        help='override settings of the config, as key=value pairs')
    return parser.parse_args()


def main():
    args = parse_args()
    report = benchmark(args.config, args.cfg_options, batch_size=args.batch_size,
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
