"""The benchmark harness reports sane JSON for a tiny pre-training config."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmssl_ext.utils.benchmark import benchmark

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_mae.py')


def _check(report, batch_size):
    assert report['batch_size'] == batch_size
    assert 0 < report['step_time_median_s'] <= report['step_time_p90_s']
    assert report['images_per_s'] == pytest.approx(batch_size / report['step_time_median_s'])
    assert report['peak_memory_mb'] > 0 and report['memory_kind']
    assert report['data']['samples_per_s'] > 0
    assert report['data']['ms_per_sample_median'] > 0
    assert report['data_preprocessor_ms_per_sample'] > 0
    assert report['num_params'] >= report['num_trainable_params'] > 0


def test_benchmark_function_on_cpu(demo_data_root):
    report = benchmark(CONFIG, {'train_dataloader.dataset.data_root':
                                str(demo_data_root / 'imagenet')},
                       batch_size=2, iters=3, warmup=1, device='cpu', data_samples=4)
    _check(report, 2)
    assert report['device'] == 'cpu' and report['memory_kind'] == 'cpu_peak_rss'


def test_benchmark_cli_prints_json(tmp_path, demo_data_root):
    out = tmp_path / 'report.json'
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark.py'), CONFIG,
         '--batch-size', '2', '--iters', '2', '--warmup', '1', '--device', 'cpu',
         '--data-samples', '3', '--out', str(out), '--cfg-options',
         f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}'],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout[result.stdout.index('{'):])
    _check(report, 2)
    assert not report['amp']
    assert json.loads(out.read_text()) == report


def test_amp_on_cpu_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match='amp'):
        benchmark(CONFIG, amp=True, device='cpu')


@pytest.mark.gpu
@pytest.mark.parametrize('amp', [False, True])
def test_benchmark_on_cuda(demo_data_root, amp):
    report = benchmark(CONFIG, {'train_dataloader.dataset.data_root':
                                str(demo_data_root / 'imagenet')},
                       batch_size=2, iters=3, warmup=1, device='cuda', data_samples=2, amp=amp)
    _check(report, 2)
    assert report['memory_kind'] == 'cuda_max_allocated'
    assert torch.cuda.is_available()
