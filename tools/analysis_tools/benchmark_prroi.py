"""Time our exact 1x1 Precise RoI Pooling (mmssl_ext.models.utils.prroi_pool_1x1).

    python tools/analysis_tools/benchmark_prroi.py [--images 256] [--boxes 100]
        [--channels 1024] [--size 14] [--stride 16] [--repeats 5] [--device cpu|cuda]
        [--mmcv]

Random (B, C, H, W) float32 feature maps (defaults: ResNet C4 of 224 px images) and B x N
random boxes inside the input image; prints the median time of the forward pass and of
forward + backward (gradients for features and boxes) as JSON. ``--mmcv`` times mmcv's
CUDA kernel instead (GPU only). Every timed call is watched by the load monitor of
``benchmark.py`` (``load_monitor.py``); a call that another process disturbed is re-run
up to ``--retries`` times, and ``load.disturbed`` says whether one stayed disturbed.
"""
import argparse
import json
import statistics
import time

import torch
from load_monitor import LoadMonitor

from mmssl_ext.models.utils import prroi_pool, prroi_pool_1x1


def parse_args():
    parser = argparse.ArgumentParser(description='Time Precise RoI Pooling')
    parser.add_argument('--images', type=int, default=256)
    parser.add_argument('--boxes', type=int, default=100, help='boxes per image')
    parser.add_argument('--channels', type=int, default=1024)
    parser.add_argument('--size', type=int, default=14, help='feature map side')
    parser.add_argument('--stride', type=int, default=16, help='input pixels per feature')
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--mmcv', action='store_true', help="mmcv's CUDA kernel")
    parser.add_argument('--retries', type=int, default=2,
                        help='re-runs of a timed call that another process disturbed')
    return parser.parse_args()


def main():
    args = parse_args()
    device = torch.device(args.device)
    if args.mmcv and (device.type != 'cuda' or prroi_pool._mmcv_prroi_pool is None):
        raise SystemExit("--mmcv needs a CUDA device and mmcv's compiled CUDA ops")
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(args.images, args.channels, args.size, args.size,
                           generator=generator).to(device).requires_grad_()
    extent = args.size * args.stride
    corners = torch.rand(args.images, args.boxes, 2, 2, generator=generator) * extent
    boxes = torch.cat([corners.min(2).values, corners.max(2).values], -1).to(device)
    boxes.requires_grad_()

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)

    def timed(backward: bool) -> float:
        sync()
        start = time.perf_counter()
        pooled = prroi_pool_1x1(features, boxes, 1 / args.stride, use_mmcv=args.mmcv)
        if backward:
            pooled.sum().backward()
        sync()
        return time.perf_counter() - start

    monitor, records = LoadMonitor(), []

    def median_ms(backward: bool) -> float:
        times = []
        for _ in range(args.repeats):
            for attempt in range(1 + args.retries):
                load = monitor.start()
                seconds = timed(backward)
                record = monitor.stop(load)
                if not record['disturbed']:
                    break
            records.append(dict(record, attempts=attempt + 1))
            times.append(seconds)
        return statistics.median(times) * 1e3

    timed(True)  # warm-up
    report = dict(
        device=str(device), threads=torch.get_num_threads(), images=args.images,
        boxes_per_image=args.boxes, channels=args.channels, feature_size=args.size,
        mmcv=args.mmcv, forward_ms_median=median_ms(False),
        forward_backward_ms_median=median_ms(True))
    report['load'] = monitor.summary(records)
    print(json.dumps(report, indent=2))


if __name__ == '__main__':
    main()
