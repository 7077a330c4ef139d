"""tools/analysis_tools/gpu_check.sh end to end on the CPU (its dry run)."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.slow
def test_dry_run_writes_every_section(tmp_path, demo_data_root):
    out = tmp_path / 'gpu_check.json'
    env = dict(os.environ, DRY_RUN='1', PYTHON=sys.executable, WHEELS=str(tmp_path / 'none'))
    result = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'analysis_tools', 'gpu_check.sh'), '--out', str(out),
         '--data-root', str(demo_data_root), '--test-data-root', str(demo_data_root),
         '--peak-tflops', '0.5'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report['dry_run'] and report['device']['peak_bf16_tflops'] == 0.5
    assert report['tests']['exit_code'] == 0 and 'skipped' in report['tests']['summary']
    assert set(report['models']) == {'cim_vit-t', 'mmpretrain_mae_tiny', 'resim_r18'}
    for model in report['models'].values():
        assert 'error' not in model, model
        step, flops = model['step_time_median_s'], model['flops_per_step']
        assert model['batch'] == 2 and step > 0 and flops > 0
        assert model['images_per_s'] == pytest.approx(2 / step)
        assert model['mfu'] == pytest.approx(flops / step / 0.5e12)
        assert model['peak_memory_mb'] > 0 and model['load']['steps'] == 1
        # CPU flash attention serves every SDPA call of the ViTs; ReSim has none
        assert model['sdpa_flash_or_efficient']
    # the ViT-T step does more FLOPs than the 2-layer, 64-d MAE's
    assert (report['models']['cim_vit-t']['flops_per_step'] >
            report['models']['mmpretrain_mae_tiny']['flops_per_step'])
    assert report['prroi']['ours']['forward_backward_ms_median'] > 0
    assert 'skipped' in report['prroi']['mmcv']
    loader = report['cim_loader']
    assert [run['workers'] for run in loader['runs']] == [1, 2]
    fast_enough = [run['workers'] for run in loader['runs']
                   if run['images_per_s'] >= loader['gpu_images_per_s']]
    assert loader['workers_to_keep_up'] == (min(fast_enough) if fast_enough else None)
