"""Pre-training benchmark: training-step time, throughput, memory, data-pipeline speed.

Used by ``tools/analysis_tools/benchmark.py``. The model, optim wrapper and dataset are
built by mmengine's Runner from the config, exactly as training builds them; batches are
fetched before timing, so a step is timed without data loading (data preprocessor +
forward + backward + optimizer step, plus the EMA target update for algorithms that have
one), and the data pipeline is timed on its own, in one worker.
"""
import resource
import statistics
import tempfile
import time
from typing import List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.runner import Runner

import mmssl_ext  # noqa: F401


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _percentile(values: List[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def build_runner(config: str, cfg_options: Optional[dict] = None,
                 batch_size: Optional[int] = None, amp: bool = False,
                 amp_dtype: str = 'bfloat16', work_dir: Optional[str] = None) -> Runner:
    """Build a Runner for ``config`` with a single-process, zero-worker train loader."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir or tempfile.mkdtemp(prefix='mmssl_benchmark_')
    cfg.launcher = 'none'
    cfg.log_level = 'WARNING'
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    cfg.train_dataloader.pin_memory = False
    if batch_size is not None:
        cfg.train_dataloader.batch_size = batch_size
    if amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.dtype = amp_dtype
        if amp_dtype == 'bfloat16':
            cfg.optim_wrapper.loss_scale = 1.0  # no gradient scaling needed for bf16
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader',
                'test_cfg', 'test_evaluator'):
        cfg.pop(key, None)
    return Runner.from_cfg(cfg)


def measure_data_pipeline(dataset, num_samples: int, warmup: int = 2) -> dict:
    """Samples/s and ms per sample of ``dataset[i]`` (full transform pipeline), one worker."""
    for index in range(warmup):
        dataset[index % len(dataset)]
    times = []
    for index in range(num_samples):
        start = time.perf_counter()
        dataset[(warmup + index) % len(dataset)]
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    return dict(samples_per_s=1.0 / statistics.mean(times), ms_per_sample_median=median * 1e3,
                ms_per_sample_p90=_percentile(times, 90) * 1e3, num_samples=num_samples)


def measure_training_steps(runner: Runner, loader, iters: int, warmup: int,
                           device: torch.device) -> dict:
    """Median / p90 step time, images/s and peak memory of ``model.train_step``."""
    model = runner.model.to(device)
    model.train()
    optim_wrapper = runner.build_optim_wrapper(runner.cfg.optim_wrapper)
    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', warmup + iters)
    batches, loader_iter = [], iter(loader)
    while len(batches) < warmup + iters:
        try:
            batches.append(next(loader_iter))
        except StopIteration:
            loader_iter = iter(loader)
    batch_size = len(batches[0]['data_samples'])
    update_target = getattr(model, 'update_target', None)

    def step(index: int, batch: dict) -> float:
        hub.update_info('iter', index)
        _sync(device)
        start = time.perf_counter()
        model.train_step(batch, optim_wrapper)
        if callable(update_target):
            update_target()
        _sync(device)
        return time.perf_counter() - start

    for index in range(warmup):
        step(index, batches[index])
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    times = [step(warmup + i, batches[warmup + i]) for i in range(iters)]

    preprocess_times = []
    with torch.no_grad():
        for batch in batches[warmup:]:
            _sync(device)
            start = time.perf_counter()
            model.data_preprocessor(batch, True)
            _sync(device)
            preprocess_times.append(time.perf_counter() - start)

    median = statistics.median(times)
    if device.type == 'cuda':
        peak, kind = torch.cuda.max_memory_allocated(device) / 2**20, 'cuda_max_allocated'
    else:
        peak, kind = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'cpu_peak_rss'
    return dict(
        batch_size=batch_size,
        step_time_median_s=median,
        step_time_p90_s=_percentile(times, 90),
        images_per_s=batch_size / median,
        peak_memory_mb=peak,
        memory_kind=kind,
        data_preprocessor_ms_per_sample=statistics.median(preprocess_times) / batch_size * 1e3,
        num_params=sum(p.numel() for p in model.parameters()),
        num_trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad))


def benchmark(config: str, cfg_options: Optional[dict] = None, batch_size: Optional[int] = None,
              iters: int = 10, warmup: int = 3, amp: bool = False, amp_dtype: str = 'bfloat16',
              device: Optional[str] = None, data_samples: int = 20) -> dict:
    """Run both measurements and return the report as a dict."""
    device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if amp and device.type != 'cuda':
        raise ValueError('amp: mmengine 0.10.7\'s AmpOptimWrapper only runs on accelerators; '
                         f'benchmark {config} with --amp on a CUDA device')
    runner = build_runner(config, cfg_options, batch_size, amp, amp_dtype)
    report = dict(config=config, device=str(device), torch=torch.__version__,
                  amp=amp, amp_dtype=amp_dtype if amp else None, iters=iters, warmup=warmup,
                  cpu_threads=torch.get_num_threads())
    loader = runner.build_dataloader(runner.cfg.train_dataloader)
    report['data'] = measure_data_pipeline(loader.dataset, data_samples)
    report.update(measure_training_steps(runner, loader, iters, warmup, device))
    return report
