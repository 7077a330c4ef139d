"""Pre-training benchmark: training-step time, throughput, memory, data-pipeline speed.

Used by ``tools/analysis_tools/benchmark.py``. The model, optim wrapper and dataset are
built by mmengine's Runner from the config, exactly as training builds them. Batches are
fetched before timing, so a timed step is ``model.train_step(batch, optim_wrapper)``
without data loading: data preprocessor + forward + backward + optimizer step, plus
every hook of the config that acts in a training iteration (target update, per-parameter
clipping, last-layer freeze, teacher temperature, parameter schedulers, ...; only the
hooks that time, log, save, draw or seed samplers, ``OBSERVER_HOOKS``, stay out). With
gradient accumulation a timed step is one optimizer step (``accumulative_counts``
iterations). The data pipeline (``dataset[i]``: loading and every transform) is timed on
its own, in the main process, i.e. as one worker.
"""
import os.path as osp
import resource
import statistics
import tempfile
import time
from itertools import count
from typing import List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.hooks import (CheckpointHook, DistSamplerSeedHook, IterTimerHook, LoggerHook,
                            RuntimeInfoHook)
from mmengine.dist import get_world_size
from mmengine.hub import get_config
from mmengine.model import is_model_wrapper
from mmengine.model.efficient_conv_bn_eval import turn_on_efficient_conv_bn_eval
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.runner import Runner
from mmengine.runner.activation_checkpointing import turn_on_activation_checkpointing
from mmpretrain.engine.hooks import VisualizationHook
from torch.utils.flop_counter import FlopCounterMode

import mmssl_ext  # noqa: F401  (registers our modules for configs without custom_imports)
from mmssl_ext.engine.hooks import CheckpointKindHook
from mmssl_ext.engine.optimizers import CPUAutocastOptimWrapper
from mmssl_ext.utils.launch import setup_cpu_distributed

# Hooks that only time, log, save, draw or seed samplers: every other hook runs in the
# timed steps.
OBSERVER_HOOKS = (CheckpointHook, CheckpointKindHook, DistSamplerSeedHook, IterTimerHook,
                  LoggerHook, RuntimeInfoHook, VisualizationHook)


def _amp_dtype(optim_wrapper: OptimWrapper) -> Optional[str]:
    """The autocast dtype of ``optim_wrapper`` as a string, None without mixed precision."""
    if isinstance(optim_wrapper, (AmpOptimWrapper, CPUAutocastOptimWrapper)):
        return str(optim_wrapper.cast_dtype).split('.')[-1]
    return None


def _any_rank(flag: bool) -> bool:
    """``flag`` of any process: ranks of a distributed job re-run a step together (a
    collective inside it would otherwise wait for a rank that has moved on)."""
    if get_world_size() == 1:
        return flag
    flags = [None] * get_world_size()
    torch.distributed.all_gather_object(flags, flag)
    return any(flags)


def _ranks_as_own(record: dict, monitor) -> dict:
    """``record`` with the other ranks' CPU time of the step counted as the job's own,
    not as foreign load (on one machine the ranks of a job share its cores)."""
    if get_world_size() == 1:
        return record
    own = [None] * get_world_size()
    torch.distributed.all_gather_object(own, record['own_cpu_s'])
    siblings = sum(own) - record['own_cpu_s']
    foreign = max(0., record['foreign_cpu_s'] - siblings)
    record = dict(record, foreign_cpu_s=foreign, foreign_cores=foreign / record['wall_s'],
                  job_cpu_s=sum(own))
    record['disturbed'] = monitor.is_disturbed(record)
    return record


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
                 amp_dtype: Optional[str] = None, device: str = 'cpu',
                 workers: int = 0, launcher: str = 'none') -> Runner:
    """A Runner for ``config`` with a full-batch train loader that has ``workers``
    workers (0: batches are loaded in the main process, before timing); one process,
    or with ``launcher='pytorch'`` one rank of a torchrun job (DDP; gloo on CPU).

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
    cfg.launcher = launcher
    cfg.log_level = 'WARNING'
    cfg.train_dataloader.num_workers = workers
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
    setup_cpu_distributed(cfg, launcher)
    return Runner.from_cfg(cfg)


def measure_data_pipeline(dataset, num_samples: int, warmup: int = 2, monitor=None) -> dict:
    """Time ``dataset[i]`` (loading + full transform pipeline) in this process.

    Returns samples/s (from the mean time) and the median / p90 ms per sample over
    ``num_samples`` samples, after ``warmup`` untimed ones; with ``monitor`` also the
    load record of the whole timed loop (``load``).
    """
    for index in range(warmup):
        dataset[index % len(dataset)]
    times = []
    load = monitor.start() if monitor is not None else None
    for index in range(num_samples):
        start = time.perf_counter()
        dataset[(warmup + index) % len(dataset)]
        times.append(time.perf_counter() - start)
    report = dict(samples_per_s=1.0 / statistics.mean(times),
                  ms_per_sample_median=statistics.median(times) * 1e3,
                  ms_per_sample_p90=_p90(times) * 1e3, num_samples=num_samples)
    if monitor is not None:
        report['load'] = monitor.stop(load)
    return report


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
    """Do what ``Runner.train`` does before its loop, except hooks.

    Moves the model to ``device``, builds ``runner.optim_wrapper`` and the parameter
    schedulers, initialises the weights, applies the config's
    ``activation_checkpointing``, ``efficient_conv_bn_eval`` and ``compile`` options,
    and tells the optim wrapper (gradient accumulation) and the message hub (EMA
    schedules) about ``max_iters``.
    """
    model = runner.model.to(device)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    if runner.param_schedulers is not None:
        runner.param_schedulers = runner.build_param_scheduler(runner.param_schedulers)
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


def _train_iteration(runner: Runner, model: torch.nn.Module, hooks: list, index: int,
                     batch: dict) -> None:
    """One training iteration as ``IterBasedTrainLoop.run_iter`` runs it: the hooks'
    ``before_train_iter``, ``model.train_step``, the hooks' ``after_train_iter``."""
    runner.message_hub.update_info('iter', index)
    for hook in hooks:
        hook.before_train_iter(runner, index, batch)
    outputs = model.train_step(batch, runner.optim_wrapper)
    for hook in hooks:
        hook.after_train_iter(runner, index, batch, outputs)


def measure_training_steps(runner: Runner, loader, iters: int, warmup: int,
                           device: torch.device, monitor=None, max_retries: int = 0,
                           count_flops: bool = False) -> dict:
    """Median / p90 time of an optimizer step, images/s and peak memory.

    A step is ``accumulative_counts`` training iterations (one without gradient
    accumulation) with the config's hooks, ``OBSERVER_HOOKS`` excepted. Peak memory: CUDA
    max allocated over the timed steps, or on CPU the peak resident set size of the whole
    process so far (``memory_kind`` says which).

    ``monitor`` (``tools/analysis_tools/load_monitor.py``'s ``LoadMonitor``) records the
    CPU load of each timed step (``steps``, summarised in ``load``); a step it marks as
    disturbed is run again, up to ``max_retries`` times, and the last attempt counts.
    ``count_flops`` counts the FLOPs of one more step (``flops_per_step``, from
    ``torch.utils.flop_counter.FlopCounterMode``: matrix products, convolutions,
    attention; forward and backward).

    Also times the data preprocessor alone on the device (``preprocessor_ms_per_sample``,
    under the optim wrapper's autocast context as in ``train_step``).
    """
    accumulate = runner.cfg.optim_wrapper.get('accumulative_counts', 1)
    num_steps = warmup + iters * (1 + max_retries) + int(count_flops)
    model = prepare_training(runner, device, num_steps * accumulate)
    hooks = [hook for hook in runner.hooks if not isinstance(hook, OBSERVER_HOOKS)]
    for hook in hooks:
        hook.before_train(runner)
    for hook in hooks:
        hook.before_train_epoch(runner)
    batches = _prefetch(loader, (warmup + iters) * accumulate)
    batch_size = len(batches[0]['data_samples'])
    iteration = count()

    def step(index: int, monitor=None):
        load = monitor.start() if monitor is not None else None
        _sync(device)
        start = time.perf_counter()
        for batch in batches[index * accumulate:(index + 1) * accumulate]:
            _train_iteration(runner, model, hooks, next(iteration), batch)
        _sync(device)
        seconds = time.perf_counter() - start
        return seconds, (_ranks_as_own(monitor.stop(load), monitor)
                         if monitor is not None else None)

    for index in range(warmup):
        step(index)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    times, loads = [], []
    for index in range(warmup, warmup + iters):
        for attempt in range(1 + max_retries):
            seconds, load = step(index, monitor)
            if load is None or not _any_rank(load['disturbed']):
                break
        times.append(seconds)
        if load is not None:
            loads.append(dict(load, step_time_s=seconds, attempts=attempt + 1))
    if device.type == 'cuda':
        peak, kind = torch.cuda.max_memory_allocated(device) / 2**20, 'cuda_max_allocated'
    else:  # ru_maxrss is in KiB on Linux
        peak, kind = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'cpu_peak_rss'
    flops = None
    if count_flops:
        with FlopCounterMode(display=False) as counter:
            step(warmup)
        flops = counter.get_total_flops()
    for hook in hooks:
        hook.after_train(runner)

    preprocess_times, bare = [], model.module if is_model_wrapper(model) else model
    preprocess_load = monitor.start() if monitor is not None else None
    with torch.no_grad(), runner.optim_wrapper.optim_context(model):
        for batch in batches[warmup * accumulate:]:
            _sync(device)
            start = time.perf_counter()
            bare.data_preprocessor(batch, True)
            _sync(device)
            preprocess_times.append(time.perf_counter() - start)
    if monitor is not None:
        preprocess_load = monitor.stop(preprocess_load)

    median = statistics.median(times)
    report = dict(
        batch_size=batch_size,
        accumulative_counts=accumulate,
        step_time_median_s=median,
        step_time_p90_s=_p90(times),
        images_per_s=batch_size * accumulate / median,
        peak_memory_mb=peak,
        memory_kind=kind,
        preprocessor_ms_per_sample=statistics.median(preprocess_times) / batch_size * 1e3,
        optim_wrapper=type(runner.optim_wrapper).__name__,
        amp_dtype=_amp_dtype(runner.optim_wrapper),
        step_hooks=[type(hook).__name__ for hook in hooks],
        num_params=sum(p.numel() for p in model.parameters()),
        num_trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad))
    if flops is not None:
        report['flops_per_step'] = flops
    if monitor is not None:
        report.update(load=monitor.summary(loads), steps=loads,
                      preprocessor_load=preprocess_load)
    return report


def benchmark(config: str, cfg_options: Optional[dict] = None, batch_size: Optional[int] = None,
              iters: int = 10, warmup: int = 3, amp: bool = False,
              amp_dtype: Optional[str] = None, device: Optional[str] = None,
              data_samples: int = 20, monitor=None, max_retries: int = 0,
              count_flops: bool = False, workers: int = 0, launcher: str = 'none') -> dict:
    """Benchmark a pre-training config; return the report (a JSON-serialisable dict).

    Top level: training-step figures of :func:`measure_training_steps` (with
    ``monitor``, ``max_retries`` and ``count_flops``) and context (config, device, torch,
    amp, iters, ...); ``data``: :func:`measure_data_pipeline` plus
    ``preprocessor_ms_per_sample``. ``workers`` only speeds up loading the batches before
    the timed steps. ``launcher='pytorch'`` times one rank of a torchrun job (each rank
    its own report, ``world_size`` ranks, the batch per rank).
    """
    for name, value, minimum in (('iters', iters, 1), ('warmup', warmup, 0),
                                 ('data_samples', data_samples, 1),
                                 ('max_retries', max_retries, 0)):
        if value < minimum:
            raise ValueError(f'{name} must be >= {minimum}, got {value}')
    device = torch.device(device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    with tempfile.TemporaryDirectory(prefix='mmssl_benchmark_') as work_dir:
        runner = build_runner(config, work_dir, cfg_options, batch_size, amp, amp_dtype,
                              device.type, workers, launcher)
        loader = runner.train_dataloader  # the train loop's, which the schedulers read
        data = measure_data_pipeline(loader.dataset, data_samples, monitor=monitor)
        steps = measure_training_steps(runner, loader, iters, warmup, device, monitor,
                                       max_retries, count_flops)
    data['preprocessor_ms_per_sample'] = steps.pop('preprocessor_ms_per_sample')
    if monitor is not None:
        data['preprocessor_load'] = steps.pop('preprocessor_load')
        steps['load']['data_disturbed'] = any(
            record['disturbed'] for record in (data['load'], data['preprocessor_load']))
        steps['load']['disturbed'] |= steps['load']['data_disturbed']
    return dict(config=config, device=str(device), torch=torch.__version__,
                amp=steps['amp_dtype'] is not None, iters=iters, warmup=warmup,
                cpu_threads=torch.get_num_threads(), world_size=get_world_size(), **steps,
                data=data)
