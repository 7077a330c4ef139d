"""The benchmark harness: what it times, and a sane JSON report for tiny configs."""
import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys
import time

import pytest
import torch
from conftest import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
benchmark_steps = load_tool('tools/analysis_tools/benchmark_steps.py')
benchmark, build_runner = benchmark_steps.benchmark, benchmark_steps.build_runner
measure_data_pipeline = benchmark_steps.measure_data_pipeline
measure_training_steps = benchmark_steps.measure_training_steps
CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_mae.py')
CIM_DEMO_CONFIG = osp.join(ROOT, 'configs', 'cim', 'vit-t_demo.py')
PQCL_DEMO_CONFIG = osp.join(ROOT, 'configs', 'pqcl', 'vit-t_demo.py')


def _load_monitor():
    spec = importlib.util.spec_from_file_location(
        'load_monitor', osp.join(ROOT, 'tools', 'analysis_tools', 'load_monitor.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class WindowMonitor(_load_monitor().LoadMonitor):
    """A LoadMonitor that also keeps each timed step's (start, stop) time and can mark
    the first ``disturb_first`` attempts of every step as disturbed."""

    def __init__(self, disturb_first=0):
        super().__init__()
        self.windows, self.disturb_first, self.attempt = [], disturb_first, 0

    def start(self):
        self.windows.append([time.perf_counter(), None])
        return super().start()

    def stop(self, start):
        record = super().stop(start)
        self.windows[-1][1] = time.perf_counter()
        record['disturbed'] = self.attempt < self.disturb_first
        self.attempt = self.attempt + 1 if record['disturbed'] else 0
        return record


def _data_root(demo_data_root):
    return {'train_dataloader.dataset.data_root': str(demo_data_root / 'imagenet')}


def _check(report, batch_size):
    assert report['batch_size'] == batch_size
    assert 0 < report['step_time_median_s'] <= report['step_time_p90_s']
    assert report['images_per_s'] == pytest.approx(batch_size / report['step_time_median_s'])
    assert report['peak_memory_mb'] > 0
    data = report['data']
    assert data['samples_per_s'] > 0
    assert 0 < data['ms_per_sample_median'] <= data['ms_per_sample_p90']
    assert data['preprocessor_ms_per_sample'] > 0
    assert report['num_params'] >= report['num_trainable_params'] > 0


class SleepyDataset:
    """Each item takes at least ``seconds``; counts the items read."""

    def __init__(self, seconds):
        self.seconds, self.reads = seconds, 0

    def __len__(self):
        return 3

    def __getitem__(self, index):
        self.reads += 1
        time.sleep(self.seconds)
        return index


def test_data_pipeline_times_each_item():
    dataset = SleepyDataset(0.01)
    data = measure_data_pipeline(dataset, num_samples=5, warmup=2)
    assert dataset.reads == 2 + 5 and data['num_samples'] == 5
    assert 10 <= data['ms_per_sample_median'] <= data['ms_per_sample_p90'] < 200
    assert 1 < data['samples_per_s'] <= 100


def test_timed_steps_are_training_steps(tmp_path, demo_data_root):
    torch.manual_seed(0)
    runner = build_runner(CONFIG, str(tmp_path), _data_root(demo_data_root), batch_size=3)
    loader = runner.build_dataloader(runner.cfg.train_dataloader)
    report = measure_training_steps(runner, loader, iters=2, warmup=1,
                                    device=torch.device('cpu'))
    assert report['batch_size'] == 3 and report['optim_wrapper'] == 'OptimWrapper'
    assert report['amp_dtype'] is None and report['memory_kind'] == 'cpu_peak_rss'
    assert sorted(report['step_hooks']) == ['NonFiniteLossHook', 'ParamSchedulerHook']
    assert report['accumulative_counts'] == 1 and 'load' not in report
    # Every warm-up and timed step ran the optimizer: AdamW counted 1 + 2 steps.
    adamw_steps = {int(state['step'])
                   for state in runner.optim_wrapper.optimizer.state.values()}
    assert adamw_steps == {3}
    assert report['num_params'] == sum(p.numel() for p in runner.model.parameters())


@pytest.mark.parametrize('amp', [False, True])
def test_benchmark_on_cpu(demo_data_root, amp):
    report = benchmark(CONFIG, _data_root(demo_data_root), batch_size=2, iters=3, warmup=1,
                       device='cpu', data_samples=4, amp=amp)
    _check(report, 2)
    assert report['device'] == 'cpu' and report['memory_kind'] == 'cpu_peak_rss'
    assert report['amp'] == amp and report['iters'] == 3
    assert report['amp_dtype'] == ('bfloat16' if amp else None)
    assert report['optim_wrapper'] == ('CPUAutocastOptimWrapper' if amp else 'OptimWrapper')


def test_steps_include_the_target_update_of_the_config(tmp_path, demo_data_root):
    torch.manual_seed(0)
    runner = build_runner(CIM_DEMO_CONFIG, str(tmp_path), _data_root(demo_data_root),
                          batch_size=2)
    loader = runner.build_dataloader(runner.cfg.train_dataloader)
    update_target, calls = runner.model.update_target, []
    runner.model.update_target = lambda: calls.append(update_target())
    report = measure_training_steps(runner, loader, iters=1, warmup=1,
                                    device=torch.device('cpu'))
    assert 'TargetUpdateHook' in report['step_hooks'] and len(calls) == 2


def test_pqcl_hooks_act_inside_the_timed_steps(tmp_path, demo_data_root):
    """Per-parameter clipping and the last-layer freeze (optimizer pre-hooks) and the
    teacher temperature (epoch hook) act, and the optimizer steps fall in timed windows."""
    torch.manual_seed(0)
    options = dict(_data_root(demo_data_root), **{'custom_hooks.1.start': 0.05,
                                                  'custom_hooks.3.max_norm': 1e-3})
    runner = build_runner(PQCL_DEMO_CONFIG, str(tmp_path), options, batch_size=2)
    loader = runner.build_dataloader(runner.cfg.train_dataloader)
    last_layer = {name: param.detach().clone()
                  for name, param in runner.model.named_parameters() if 'last_layer' in name}
    assert last_layer
    optimizer_steps, monitor = [], WindowMonitor()

    def after_step(optimizer, args, kwargs):
        grads = [p.grad for group in optimizer.param_groups for p in group['params']
                 if p.grad is not None]
        optimizer_steps.append((time.perf_counter(), max(g.norm().item() for g in grads)))

    runner.build_optim_wrapper = lambda cfg: _hooked(runner, cfg, after_step)
    report = measure_training_steps(runner, loader, iters=2, warmup=1,
                                    device=torch.device('cpu'), monitor=monitor)
    assert sorted(report['step_hooks']) == [
        'FreezeLastLayerHook', 'NonFiniteLossHook', 'ParamSchedulerHook',
        'PerParamGradClipHook', 'TargetUpdateHook', 'TeacherTempWarmupHook']
    assert runner.model.teacher_temp == 0.05
    assert len(optimizer_steps) == 3
    for when, largest_norm in optimizer_steps[1:]:  # the timed ones
        assert largest_norm <= 1e-3 * (1 + 1e-4)
        assert any(start <= when <= stop for start, stop in monitor.windows)
    for name, before in last_layer.items():
        torch.testing.assert_close(dict(runner.model.named_parameters())[name], before)
    assert len(report['steps']) == 2 and report['load']['steps'] == 2
    # after_train removed the hooks' optimizer pre-hooks
    assert not runner.optim_wrapper.optimizer._optimizer_step_pre_hooks


def _hooked(runner, cfg, after_step):
    """Build the optim wrapper as the Runner does, plus an optimizer step post-hook."""
    optim_wrapper = type(runner).build_optim_wrapper(runner, cfg)
    optim_wrapper.optimizer.register_step_post_hook(after_step)
    return optim_wrapper


def test_gradient_accumulation_times_optimizer_steps(tmp_path, demo_data_root):
    torch.manual_seed(0)
    runner = build_runner(CIM_DEMO_CONFIG, str(tmp_path),
                          dict(_data_root(demo_data_root),
                               **{'optim_wrapper.accumulative_counts': 2}), batch_size=2)
    loader = runner.build_dataloader(runner.cfg.train_dataloader)
    update_target, updates, train_step, iterations = (runner.model.update_target, [],
                                                       runner.model.train_step, [])
    runner.model.update_target = lambda: updates.append(update_target())
    runner.model.train_step = lambda *a: iterations.append(1) or train_step(*a)
    report = measure_training_steps(runner, loader, iters=2, warmup=1,
                                    device=torch.device('cpu'), monitor=WindowMonitor())
    assert len(iterations) == 6 and len(updates) == 3  # target moves per optimizer step
    optimizer_steps = {int(state['step'])
                       for state in runner.optim_wrapper.optimizer.state.values()}
    assert optimizer_steps == {3}
    assert report['accumulative_counts'] == 2 and len(report['steps']) == 2
    assert report['images_per_s'] == pytest.approx(2 * 2 / report['step_time_median_s'])
    for step in report['steps']:  # a timed step covers both iterations
        assert step['wall_s'] >= step['step_time_s']


def test_disturbed_steps_are_run_again(tmp_path, demo_data_root):
    torch.manual_seed(0)
    runner = build_runner(CONFIG, str(tmp_path), _data_root(demo_data_root), batch_size=2)
    loader = runner.build_dataloader(runner.cfg.train_dataloader)
    report = measure_training_steps(runner, loader, iters=2, warmup=1,
                                    device=torch.device('cpu'),
                                    monitor=WindowMonitor(disturb_first=1), max_retries=2)
    assert [step['attempts'] for step in report['steps']] == [2, 2]
    assert not report['load']['disturbed'] and report['load']['retries'] == 2
    adamw_steps = {int(state['step'])
                   for state in runner.optim_wrapper.optimizer.state.values()}
    assert adamw_steps == {1 + 2 * 2}
    runner = build_runner(CONFIG, str(tmp_path / 'again'), _data_root(demo_data_root),
                          batch_size=2)
    report = measure_training_steps(runner, loader, iters=1, warmup=0,
                                    device=torch.device('cpu'),
                                    monitor=WindowMonitor(disturb_first=5), max_retries=1)
    assert report['load']['disturbed'] and report['steps'][0]['attempts'] == 2


def test_cli_prints_json(tmp_path, demo_data_root):
    out = tmp_path / 'report.json'
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark.py'), CONFIG,
         '--batch-size', '2', '--iters', '2', '--warmup', '1', '--device', 'cpu',
         '--data-samples', '3', '--out', str(out), '--cfg-options',
         f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    _check(report, 2)
    assert report['config'] == CONFIG and not report['amp']
    assert len(report['steps']) == 2 and report['load']['steps'] == 2
    assert report['load']['max_foreign_cores'] == 0.25
    assert json.loads(out.read_text()) == report


def test_cli_compares_configs_in_separate_processes(tmp_path, demo_data_root):
    cae_demo = osp.join(ROOT, 'configs', 'cae', 'vit-t_demo.py')
    out = tmp_path / 'comparison.json'
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark.py'), CONFIG,
         cae_demo, '--batch-size', '2', '--iters', '1', '--warmup', '1', '--device', 'cpu',
         '--data-samples', '2', '--repeats', '2', '--out', str(out), '--cfg-options',
         f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}'],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert [(run['config'], run['repeat']) for run in report['runs']] == [
        (CONFIG, 0), (CONFIG, 1), (cae_demo, 0), (cae_demo, 1)]
    for run in report['runs']:
        _check(run, 2)
    first, _, second, _ = report['runs']
    assert report['relative_to_first'][CONFIG]['step_time_median_s']['median'] == 1.0
    memory = report['relative_to_first'][cae_demo]['peak_memory_mb']
    ratio = second['peak_memory_mb'] / first['peak_memory_mb']
    assert memory['min'] <= ratio * (1 + 1e-9) and ratio <= memory['max'] * (1 + 1e-9)
    assert memory['min'] <= memory['iqr'][0] <= memory['median'] <= memory['max']
    assert memory['n'] == 2 and report['repeats'] == 2
    times = report['step_time_median_s'][cae_demo]
    assert times['min'] == min(second['step_time_median_s'], report['runs'][3][
        'step_time_median_s']) and times['n'] == 2
    assert report['disturbed_runs'] == [dict(config=run['config'], repeat=run['repeat'])
                                        for run in report['runs'] if run['load']['disturbed']]


@pytest.mark.parametrize('bad, message', [(dict(iters=0), 'iters'),
                                          (dict(warmup=-1), 'warmup'),
                                          (dict(data_samples=0), 'data_samples'),
                                          (dict(amp=True, amp_dtype='float16'), 'amp_dtype')])
def test_bad_arguments_are_named(bad, message):
    with pytest.raises(ValueError, match=message):
        benchmark(CONFIG, **dict(dict(device='cpu'), **bad))


def test_runners_built_in_the_same_second_log_to_their_own_work_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(time, 'time', lambda: 1e9)  # one timestamp for both runners
    first = build_runner(CONFIG, str(tmp_path / 'first'))
    second = build_runner(CONFIG, str(tmp_path / 'second'))
    assert first.timestamp == second.timestamp
    assert first.visualizer is not second.visualizer
    assert first.logger is not second.logger


def test_package_configs_resolve(tmp_path):
    runner = build_runner('mmpretrain::cae/cae_beit-base-p16_8xb256-amp-coslr-300e_in1k.py',
                          str(tmp_path), {'model.target_generator.init_cfg': None})
    assert type(runner.model).__name__ == 'CAE'


def test_too_few_images_for_one_batch_is_an_error(demo_data_root):
    with pytest.raises(ValueError, match='one batch'):
        benchmark(CONFIG, _data_root(demo_data_root), batch_size=1000, iters=1, warmup=0,
                  device='cpu', data_samples=1)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
@pytest.mark.parametrize('amp_dtype', [None, 'float16', 'bfloat16'])
def test_benchmark_on_cuda(demo_data_root, amp_dtype):
    report = benchmark(CONFIG, _data_root(demo_data_root), batch_size=2, iters=3, warmup=1,
                       device='cuda', data_samples=2, amp=amp_dtype is not None,
                       amp_dtype=amp_dtype)
    _check(report, 2)
    assert report['device'] == 'cuda' and report['memory_kind'] == 'cuda_max_allocated'
    assert report['amp_dtype'] == amp_dtype
    assert report['optim_wrapper'] == ('AmpOptimWrapper' if amp_dtype else 'OptimWrapper')


@pytest.mark.slow
def test_cli_times_one_rank_of_a_two_process_job(tmp_path, demo_data_root):
    out = tmp_path / 'rank0.json'
    result = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
         '--master_port', '29651', osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark.py'),
         CONFIG, '--launcher', 'pytorch', '--batch-size', '2', '--iters', '2', '--warmup',
         '1', '--device', 'cpu', '--data-samples', '2', '--out', str(out), '--cfg-options',
         f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}'],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    _check(report, 2)
    assert report['world_size'] == 2 and report['cpu_threads'] == 1
    assert len(report['steps']) == 2
    assert result.stdout.count('"world_size": 2') == 1  # only rank 0 reports
    for step in report['steps']:  # the other rank's CPU time is the job's, not foreign
        assert step['job_cpu_s'] > step['own_cpu_s'] > 0
        assert step['foreign_cores'] == pytest.approx(step['foreign_cpu_s'] / step['wall_s'])


class CallMonitor(_load_monitor().LoadMonitor):
    """A LoadMonitor that marks the records of the listed calls of ``stop`` (0-based)
    as disturbed."""

    def __init__(self, disturbed_calls):
        super().__init__()
        self.disturbed_calls, self.calls = set(disturbed_calls), 0

    def stop(self, start):
        record = super().stop(start)
        record['disturbed'] = self.calls in self.disturbed_calls
        self.calls += 1
        return record


def test_data_pipeline_timing_is_monitored():
    data = measure_data_pipeline(SleepyDataset(0.01), num_samples=5, warmup=2,
                                 monitor=CallMonitor([0]))
    assert data['load']['disturbed'] and data['load']['wall_s'] >= 5 * 0.01
    data = measure_data_pipeline(SleepyDataset(0.01), num_samples=5, warmup=2,
                                 monitor=CallMonitor([]))
    assert not data['load']['disturbed']


@pytest.mark.parametrize('disturbed_call, where', [(0, 'data'), (3, 'preprocessor'),
                                                   (None, None)])
def test_a_disturbed_data_measurement_marks_the_report(demo_data_root, disturbed_call,
                                                       where):
    # stop() calls: 0 the data pipeline, 1-2 the two timed steps, 3 the preprocessor
    monitor = CallMonitor([] if disturbed_call is None else [disturbed_call])
    report = benchmark(CONFIG, _data_root(demo_data_root), batch_size=2, iters=2, warmup=1,
                       device='cpu', data_samples=3, monitor=monitor)
    assert monitor.calls == 4 and report['load']['disturbed_steps'] == 0
    assert report['data']['load']['disturbed'] == (where == 'data')
    assert report['data']['preprocessor_load']['disturbed'] == (where == 'preprocessor')
    assert report['load']['data_disturbed'] == report['load']['disturbed'] == (where is not None)
