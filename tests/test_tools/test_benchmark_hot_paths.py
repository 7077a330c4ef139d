"""tools/analysis_tools/benchmark_{hot_paths,prroi}.py: load-monitored timings as JSON."""
import json
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _run(script, *args):
    result = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'analysis_tools', script),
                             *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_ema_times_the_fused_update_and_the_loop_of_the_same_targets():
    report = _run('benchmark_hot_paths.py', 'ema', 'configs/cim/vit-t_demo.py',
                  '--repeats', '2')
    # CIM's target is a full copy of the online encoder
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmssl_ext  # noqa: F401
    from mmssl_ext.registry import MODELS
    init_default_scope('mmssl_ext')
    model = MODELS.build(Config.fromfile(osp.join(ROOT, 'configs/cim/vit-t_demo.py')).model)
    assert report['target_parameters'] == sum(p.numel() for p in model.backbone.parameters())
    assert report['fused_ms_median'] > 0 and report['per_parameter_loop_ms_median'] > 0
    assert report['loop_over_fused'] == (report['per_parameter_loop_ms_median']
                                         / report['fused_ms_median'])
    assert report['load']['steps'] == 2 * 2  # two ways, two repeats


def test_photometric_and_prroi_reports_carry_their_load():
    report = _run('benchmark_hot_paths.py', 'photometric', '--batch', '3', '--size', '16',
                  '--repeats', '3')
    assert report['batch'] == 3 and report['augment_ms_median'] > 0
    assert report['module'] == 'mmssl_ext.datasets.transforms.batch_augment'
    assert report['load']['steps'] == 3 and 'disturbed' in report['load']
    report = _run('benchmark_prroi.py', '--images', '2', '--boxes', '3', '--channels', '4',
                  '--size', '6', '--repeats', '2', '--device', 'cpu')
    assert report['forward_ms_median'] > 0 and report['forward_backward_ms_median'] > 0
    assert report['load']['steps'] == 2 * 2
