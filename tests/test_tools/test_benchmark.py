"""The benchmark harness: what it times, and a sane JSON report for tiny configs."""
import json
import os.path as osp
import subprocess
import sys
import time

import pytest
import torch
from conftest import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
benchmark_tool = load_tool('tools/analysis_tools/benchmark.py')
benchmark, build_runner = benchmark_tool.benchmark, benchmark_tool.build_runner
measure_data_pipeline = benchmark_tool.measure_data_pipeline
measure_training_steps = benchmark_tool.measure_training_steps
CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_mae.py')
CIM_DEMO_CONFIG = osp.join(ROOT, 'configs', 'cim', 'vit-t_demo.py')


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
    assert not report['target_update']
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
    assert report['target_update'] and len(calls) == 2


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
    assert json.loads(out.read_text()) == report


def test_cli_compares_configs_in_separate_processes(tmp_path, demo_data_root):
    cae_demo = osp.join(ROOT, 'configs', 'cae', 'vit-t_demo.py')
    out = tmp_path / 'comparison.json'
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark.py'), CONFIG,
         cae_demo, '--batch-size', '2', '--iters', '1', '--warmup', '1', '--device', 'cpu',
         '--data-samples', '2', '--out', str(out), '--cfg-options',
         f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}'],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert [run['config'] for run in report['runs']] == [CONFIG, cae_demo]
    for run in report['runs']:
        _check(run, 2)
    first, second = report['runs']
    assert report['relative_to_first'][CONFIG]['step_time_median_s'] == 1.0
    assert report['relative_to_first'][cae_demo]['peak_memory_mb'] == pytest.approx(
        second['peak_memory_mb'] / first['peak_memory_mb'])


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
