"""Benchmark pre-training configs: step time, images/s, peak memory, data throughput.

    python tools/analysis_tools/benchmark.py CONFIG [CONFIG ...] [--batch-size N]
        [--iters 10] [--warmup 3] [--amp [--amp-dtype float16|bfloat16]]
        [--device cpu|cuda] [--data-samples 20] [--out report.json]
        [--cfg-options k=v ...]

One config: prints one JSON object. Several configs (a side-by-side comparison, e.g.
ours against mmpretrain's ``mmpretrain::...`` config): each is measured in a fresh
process with the same settings and ``--cfg-options``, so peak memory is per config;
prints ``{"runs": [...], "relative_to_first": {...}}`` with each run's step time,
images/s and peak memory divided by the first config's.

What is timed: the model, optim wrapper and dataset are built by mmengine's Runner from
the config, exactly as training builds them. Batches are fetched before timing, so a
timed step is ``model.train_step(batch, optim_wrapper)`` without data loading: data
preprocessor + forward + backward + optimizer step, plus the target update of
:class:`~mmssl_ext.engine.hooks.TargetUpdateHook` where the config has one (the other
hooks only log and save). The data pipeline (``dataset[i]``: loading and every
transform) is timed on its own, in the main process, i.e. as one worker.
"""
import argparse
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import List, Optional

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.hub import get_config
from mmengine.model.efficient_conv_bn_eval import turn_on_efficient_conv_bn_eval
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.runner import Runner
from mmengine.runner.activation_checkpointing import turn_on_activation_checkpointing

import mmssl_ext  # noqa: F401  (registers our modules for configs without custom_imports)
from mmssl_ext.engine.hooks import TargetUpdateHook
from mmssl_ext.engine.optimizers import CPUAutocastOptimWrapper

RATIO_KEYS = ('step_time_median_s', 'images_per_s', 'peak_memory_mb')



def _amp_dtype(optim_wrapper: OptimWrapper) -> Optional[str]:
    """The autocast dtype of ``optim_wrapper`` as a string, None without mixed precision."""
    if isinstance(optim_wrapper, (AmpOptimWrapper, CPUAutocastOptimWrapper)):
        return str(optim_wrapper.cast_dtype).split('.')[-1]
    return None


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _p90(values: List[float]) -> float:
    return float(np.percentile(np.asarray(values), 90))


def _set_amp(cfg: Config, device: torch.device, amp_dtype: Optional[str]) -> None:
    """Switch ``cfg.optim_wrapper`` to mixed precision on ``device``."""
    if device.type == 'cpu':
        if amp_dtype not in (None, 'bfloat16'):
            raise ValueError(f'amp_dtype: CPU autocast runs in bfloat16 only, got {amp_dtype}')
        for key in ('dtype', 'loss_scale'):
            cfg.optim_wrapper.pop(key, None)
        cfg.optim_wrapper.type = 'CPUAutocastOptimWrapper'
        return
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    # float16 is AmpOptimWrapper's own default on CUDA, and what tools/train.py --amp runs
    cfg.optim_wrapper.dtype = amp_dtype or cfg.optim_wrapper.get('dtype') or 'float16'
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def build_runner(config: str, work_dir: str, cfg_options: Optional[dict] = None,
                 batch_size: Optional[int] = None, amp: bool = False,
                 amp_dtype: Optional[str] = None, device: str = 'cpu') -> Runner:
    """A single-process Runner for ``config`` with a zero-worker, full-batch train loader.

    ``amp`` switches the optim wrapper to ``AmpOptimWrapper`` on CUDA (``amp_dtype``
    float16, the default, or bfloat16) and to :class:`CPUAutocastOptimWrapper` on CPU; a
    config whose optim wrapper is already an ``AmpOptimWrapper`` is treated as ``amp``.
    ``config`` is a file or a ``package::path`` config of an installed OpenMMLab package
    (e.g. ``mmpretrain::cae/cae_beit-base-p16_8xb256-amp-coslr-300e_in1k.py``).
    """
    cfg = get_config(config) if '::' in config else Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir
    # Runner's logger and visualizer are named instances; a unique name keeps two runners
    # built in the same second (same timestamp) from sharing them.
    cfg.experiment_name = osp.basename(osp.normpath(work_dir))
    cfg.launcher = 'none'
    cfg.log_level = 'WARNING'
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_dataloader.pin_memory = False
    cfg.train_dataloader.drop_last = True  # every timed step has a full batch
    if batch_size is not None:
        cfg.train_dataloader.batch_size = batch_size
    if amp or cfg.optim_wrapper.get('type') == 'AmpOptimWrapper':
        _set_amp(cfg, torch.device(device), amp_dtype)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader',
                'test_cfg', 'test_evaluator'):
        cfg.pop(key, None)
    return Runner.from_cfg(cfg)


def measure_data_pipeline(dataset, num_samples: int, warmup: int = 2) -> dict:
    """Time ``dataset[i]`` (loading + full transform pipeline) in this process.

    Returns samples/s (from the mean time) and the median / p90 ms per sample over
    ``num_samples`` samples, after ``warmup`` untimed ones.
    """
    for index in range(warmup):
        dataset[index % len(dataset)]
    times = []
    for index in range(num_samples):
        start = time.perf_counter()
        dataset[(warmup + index) % len(dataset)]
        times.append(time.perf_counter() - start)
    return dict(samples_per_s=1.0 / statistics.mean(times),
                ms_per_sample_median=statistics.median(times) * 1e3,
                ms_per_sample_p90=_p90(times) * 1e3, num_samples=num_samples)


def _prefetch(loader, num_batches: int) -> List[dict]:
    """``num_batches`` batches from ``loader``, restarting it when it runs out."""
    if len(loader) == 0:
        raise ValueError('the train dataloader yields no batch: its dataset is empty or '
                         'smaller than one batch')
    batches = []
    while len(batches) < num_batches:
        for batch in loader:
            batches.append(batch)
            if len(batches) == num_batches:
                break
    return batches


def prepare_training(runner: Runner, device: torch.device, max_iters: int) -> torch.nn.Module:
    """Do what ``Runner.train`` does before its loop, except hooks and schedulers.

    Moves the model to ``device``, builds ``runner.optim_wrapper``, initialises the
    weights, applies the config's ``activation_checkpointing``,
    ``efficient_conv_bn_eval`` and ``compile`` options, and tells the optim wrapper
    (gradient accumulation) and the message hub (EMA schedules) about ``max_iters``.
    """
    model = runner.model.to(device)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner._init_model_weights()
    for key, turn_on in (('activation_checkpointing', turn_on_activation_checkpointing),
                         ('efficient_conv_bn_eval', turn_on_efficient_conv_bn_eval)):
        if runner.cfg.get(key) is not None:
            turn_on(model, runner.cfg.get(key))
    runner.optim_wrapper.initialize_count_status(model, 0, max_iters)
    runner.message_hub.update_info('max_iters', max_iters)
    runner._maybe_compile('train_step')
    model.train()
    return model


def measure_training_steps(runner: Runner, loader, iters: int, warmup: int,
                           device: torch.device) -> dict:
    """Median / p90 time of ``model.train_step``, images/s and peak memory.

    Peak memory: CUDA max allocated over the timed steps, or on CPU the peak resident set
    size of the whole process so far (``memory_kind`` says which).

    Also times the data preprocessor alone on the device (``preprocessor_ms_per_sample``,
    under the optim wrapper's autocast context as in ``train_step``).
    """
    model = prepare_training(runner, device, warmup + iters)
    target_hooks = [hook for hook in runner.hooks if isinstance(hook, TargetUpdateHook)]
    for hook in target_hooks:
        hook.before_train(runner)
    batches = _prefetch(loader, warmup + iters)
    batch_size = len(batches[0]['data_samples'])

    def step(index: int) -> float:
        runner.message_hub.update_info('iter', index)
        _sync(device)
        start = time.perf_counter()
        model.train_step(batches[index], runner.optim_wrapper)
        for hook in target_hooks:
            hook.after_train_iter(runner, index)
        _sync(device)
        return time.perf_counter() - start

    for index in range(warmup):
        step(index)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    times = [step(index) for index in range(warmup, warmup + iters)]
    if device.type == 'cuda':
        peak, kind = torch.cuda.max_memory_allocated(device) / 2**20, 'cuda_max_allocated'
    else:  # ru_maxrss is in KiB on Linux
        peak, kind = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'cpu_peak_rss'

    preprocess_times = []
    with torch.no_grad(), runner.optim_wrapper.optim_context(model):
        for batch in batches[warmup:]:
            _sync(device)
            start = time.perf_counter()
            model.data_preprocessor(batch, True)
            _sync(device)
            preprocess_times.append(time.perf_counter() - start)

    median = statistics.median(times)
    return dict(
        batch_size=batch_size,
        step_time_median_s=median,
        step_time_p90_s=_p90(times),
        images_per_s=batch_size / median,
        peak_memory_mb=peak,
        memory_kind=kind,
        preprocessor_ms_per_sample=statistics.median(preprocess_times) / batch_size * 1e3,
        optim_wrapper=type(runner.optim_wrapper).__name__,
        amp_dtype=_amp_dtype(runner.optim_wrapper),
        target_update=bool(target_hooks),
        num_params=sum(p.numel() for p in model.parameters()),
        num_trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad))


def benchmark(config: str, cfg_options: Optional[dict] = None, batch_size: Optional[int] = None,
              iters: int = 10, warmup: int = 3, amp: bool = False,
              amp_dtype: Optional[str] = None, device: Optional[str] = None,
              data_samples: int = 20) -> dict:
    """Benchmark a pre-training config; return the report (a JSON-serialisable dict).

    Top level: training-step figures of :func:`measure_training_steps` and context
    (config, device, torch, amp, iters, ...); ``data``: :func:`measure_data_pipeline`
    plus ``preprocessor_ms_per_sample``.
    """
    for name, value, minimum in (('iters', iters, 1), ('warmup', warmup, 0),
                                 ('data_samples', data_samples, 1)):
        if value < minimum:
            raise ValueError(f'{name} must be >= {minimum}, got {value}')
    device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    with tempfile.TemporaryDirectory(prefix='mmssl_benchmark_') as work_dir:
        runner = build_runner(config, work_dir, cfg_options, batch_size, amp, amp_dtype,
                              device.type)
        loader = runner.build_dataloader(runner.cfg.train_dataloader)
        data = measure_data_pipeline(loader.dataset, data_samples)
        steps = measure_training_steps(runner, loader, iters, warmup, device)
    data['preprocessor_ms_per_sample'] = steps.pop('preprocessor_ms_per_sample')
    return dict(config=config, device=str(device), torch=torch.__version__,
                amp=steps['amp_dtype'] is not None, iters=iters, warmup=warmup,
                cpu_threads=torch.get_num_threads(), **steps, data=data)


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
