"""One short GPU check: CUDA tests, bf16 step time / images/s / memory / MFU per paper
config, the SDPA path, Precise RoI Pooling against mmcv, and data-loader headroom.

    python tools/analysis_tools/gpu_check.py [--out gpu_check.json] [--peak-tflops T]
        [--budget-s 420] [--data-root data/demo] [--test-data-root data/demo_tests]
        [--dry-run]

Run through ``tools/analysis_tools/gpu_check.sh``, which installs the wheels first.
Every measurement runs in its own process (``tools/analysis_tools/benchmark.py``), so
peak memory is per config and one failure does not stop the others; the JSON records
each command, its result or its error, and is rewritten after every section (a run cut
short keeps what it measured). Sections:

* ``tests``: ``pytest -m gpu`` (the CUDA-marked tests), exit code and summary line.
* ``models``: for each ViT-B/S paper config (CIM, CAE tokens and pixels, PQCL,
  mmpretrain's MAE and CAE as peers) and ReSim-FPN/R50, the benchmark report's step time
  (one optimizer step), images/s, peak memory and load, at the paper's per-GPU batch,
  halved until it fits; ``flops_per_step`` (``FlopCounterMode`` over one step, forward
  and backward) and ``mfu`` = flops / step time / peak bf16 FLOP/s. The run is made with
  SDPA restricted to the flash and memory-efficient kernels: ``sdpa_flash_or_efficient``
  is true when that run succeeded, false (with the error) when a step needed another
  kernel, in which case the figures come from an unrestricted run.
* ``prroi``: ``tools/analysis_tools/benchmark_prroi.py`` for our exact PrRoI pooling and,
  where mmcv's compiled CUDA ops are installed, for mmcv's kernel (else the reason).
* ``cim_loader``: images/s of CIM's training data loader at several worker counts
  (a fresh ``DataLoader`` each, demo images), against the GPU's images/s for CIM:
  ``workers_to_keep_up`` is the fewest workers that load at least as fast.

``--dry-run`` runs every section on the CPU with the tiny demo configs, a batch of 2 and
one timed step: it checks the script end to end (a test in ``make test`` does), its
figures mean nothing. Demo data (``tools/dataset_converters/make_demo_data.py``, 520
real images, enough for a batch of 512) is built under ``--data-root`` unless there, and
the test suite's (30 images) under ``--test-data-root``; the GPU check needs no network.
Building them needs pycocotools (the COCO part), which the workplace's GPU image lacks:
there, carry both folders built beforehand (``make_demo_data.py --out data/demo
--num-unlabeled 520`` and ``--out data/demo_tests --num-unlabeled 30``).
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import tempfile
import time

from mmssl_ext.utils.checkpoint_files import atomic_write

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BENCHMARK = osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark.py')
PRROI = osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_prroi.py')

# Dense bf16 peak of the SXM parts (vendor datasheets), TFLOP/s; --peak-tflops overrides.
PEAK_BF16_TFLOPS = {'H100': 989.0, 'H200': 989.0}

MMPRETRAIN_CAE = 'mmpretrain::cae/cae_beit-base-p16_8xb256-amp-coslr-300e_in1k.py'
MMPRETRAIN_MAE = 'mmpretrain::mae/mae_vit-base-p16_8xb512-amp-coslr-300e_in1k.py'
# name -> (config, paper per-GPU batch, extra --cfg-options)
MODELS = {
    'cim_vit-b': ('configs/cim/vit-b_300e_in1k.py', 256, []),
    'cae_vit-b_tokens': ('configs/cae/vit-b_300e_in1k.py', 256,
                         ['model.target_generator.init_cfg=None']),
    'cae_vit-b_pixels': ('configs/cae/vit-b_300e_in1k_pixel.py', 256, []),
    'pqcl_vit-s': ('configs/pqcl/vit-s_100e_in1k.py', 128, []),
    'mmpretrain_mae_vit-b': (MMPRETRAIN_MAE, 512, []),
    'mmpretrain_cae_vit-b': (MMPRETRAIN_CAE, 256, ['model.target_generator.init_cfg=None']),
    'resim-fpn_r50': ('configs/resim/resim-fpn_r50_200e_in1k.py', 32, []),
}
DRY_MODELS = {  # one of ours (with its EMA target), one mmpretrain peer, one CNN
    'cim_vit-t': ('configs/cim/vit-t_demo.py', 2, []),
    'mmpretrain_mae_tiny': ('tests/data/configs/tiny_mae.py', 2, []),
    'resim_r18': ('configs/resim/r18_demo.py', 2, []),
}
CIM_CONFIG, DRY_CIM_CONFIG = MODELS['cim_vit-b'][0], DRY_MODELS['cim_vit-t'][0]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Prepared GPU check (one JSON)')
    parser.add_argument('--out', default='gpu_check.json', help='the JSON report')
    parser.add_argument('--peak-tflops', type=float,
                        help='dense bf16 peak of the device in TFLOP/s (default: H100 / '
                        'H200 datasheet value by device name; no MFU otherwise)')
    parser.add_argument('--budget-s', type=float, default=420,
                        help='skip the sections still to run once this much time is spent')
    parser.add_argument('--data-root', default=osp.join(ROOT, 'data', 'demo'),
                        help='demo data (built here when missing)')
    parser.add_argument('--test-data-root', default=osp.join(ROOT, 'data', 'demo_tests'),
                        help="the tests' demo data (30 images; built here when missing)")
    parser.add_argument('--dry-run', action='store_true', default=bool(os.environ.get(
        'DRY_RUN')), help='CPU, tiny configs: check the script end to end (or DRY_RUN=1)')
    return parser.parse_args(argv)


def _run(command, timeout, env=None):
    """Run ``command``; (exit code, stdout, stderr tail), a timeout counting as 124."""
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                timeout=timeout, env=env)
    except subprocess.TimeoutExpired as error:
        return 124, '', f'timed out after {timeout} s: {error}'
    return result.returncode, result.stdout, result.stderr[-3000:]


def device_info(dry_run, peak_tflops):
    import torch
    info = dict(torch=torch.__version__, cuda=torch.version.cuda,
                device='cpu' if dry_run else 'cuda', cpus=os.cpu_count())
    if not dry_run:
        name = torch.cuda.get_device_name(0)
        info.update(name=name, capability=list(torch.cuda.get_device_capability(0)),
                    memory_gb=torch.cuda.get_device_properties(0).total_memory / 1e9)
        if peak_tflops is None:
            peak_tflops = next((value for key, value in PEAK_BF16_TFLOPS.items()
                                if key in name), None)
    info['peak_bf16_tflops'] = peak_tflops
    return info


def run_tests(dry_run, data_root, timeout):
    # the dry run collects one file with CUDA-marked tests (they skip on the CPU)
    target = ('tests/test_models/test_utils/test_prroi_pool.py' if dry_run else 'tests')
    # test files that import a package the machine lacks (mmdet, mmseg) do not stop the rest
    code, out, err = _run([sys.executable, '-m', 'pytest', target, '-m', 'gpu', '-q', '-rfEs',
                           '-p', 'no:cacheprovider', '--continue-on-collection-errors'],
                          timeout, env=dict(os.environ, MMSSL_DEMO_DATA=data_root))
    lines = [line for line in out.splitlines() if line.strip()]
    return dict(command=f'pytest {target} -m gpu', exit_code=code,
                summary=lines[-1] if lines else err[-500:],
                failures=[line for line in lines if line.startswith(('FAILED', 'ERROR'))],
                skipped=[line for line in lines if line.startswith('SKIPPED')])


def _benchmark(config, batch, options, settings, sdpa, timeout):
    """One benchmark.py run in a fresh process; (report or None, command, error)."""
    with tempfile.TemporaryDirectory(prefix='gpu_check_') as tmp:
        out = osp.join(tmp, 'report.json')
        command = [sys.executable, BENCHMARK, config, '--batch-size', str(batch), '--out',
                   out, '--flops', *settings]
        if sdpa:
            command += ['--sdpa-backends', 'flash,efficient']
        command += ['--cfg-options', *options]
        code, _, err = _run(command, timeout)
        if code != 0:
            return None, command, err
        with open(out) as f:
            return json.load(f), command, None


def measure_model(config, batch, options, settings, peak_tflops, timeout, min_batch):
    """Benchmark ``config`` at ``batch`` (halved while out of memory) with SDPA
    restricted to flash / efficient, then without the restriction if that failed."""
    result = dict(config=config, paper_batch=batch)
    while True:
        report, command, error = _benchmark(config, batch, options, settings, True, timeout)
        if report is None and 'out of memory' in (error or '') and batch // 2 >= min_batch:
            batch //= 2
            continue
        break
    result['sdpa_flash_or_efficient'] = report is not None
    if report is None:
        result['sdpa_error'] = error
        report, command, error = _benchmark(config, batch, options, settings, False, timeout)
    result['command'] = ' '.join(command)
    if report is None:
        return dict(result, error=error)
    step = report['step_time_median_s']
    flops = report.get('flops_per_step')
    result.update(
        batch=report['batch_size'], accumulative_counts=report['accumulative_counts'],
        step_time_median_s=step, step_time_p90_s=report['step_time_p90_s'],
        images_per_s=report['images_per_s'], peak_memory_mb=report['peak_memory_mb'],
        memory_kind=report['memory_kind'], amp_dtype=report['amp_dtype'],
        flops_per_step=flops, achieved_tflops=flops / step / 1e12 if flops else None,
        mfu=flops / step / (peak_tflops * 1e12) if flops and peak_tflops else None,
        data=report['data'], load=report['load'])
    return result


def measure_prroi(dry_run, timeout):
    sizes = (['--images', '4', '--boxes', '8', '--channels', '16', '--repeats', '2',
              '--device', 'cpu'] if dry_run else ['--device', 'cuda'])
    result = {}
    for name, extra in (('ours', []), ('mmcv', ['--mmcv'])):
        if name == 'mmcv':
            from mmssl_ext.models.utils import prroi_pool
            if dry_run or prroi_pool._mmcv_prroi_pool is None:
                result[name] = dict(skipped='mmcv compiled CUDA ops are not available'
                                    if not dry_run else 'dry run: CPU only')
                continue
        code, out, err = _run([sys.executable, PRROI, *sizes, *extra], timeout)
        result[name] = json.loads(out) if code == 0 else dict(error=err)
    ours, mmcv = result['ours'], result['mmcv']
    if 'forward_backward_ms_median' in ours and 'forward_backward_ms_median' in mmcv:
        result['ours_over_mmcv_forward_backward'] = (
            ours['forward_backward_ms_median'] / mmcv['forward_backward_ms_median'])
    return result


LOADER_SCRIPT = '''
import json, sys, time
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
import mmssl_ext
config, data_root, batch, workers, batches = sys.argv[1:6]
cfg = Config.fromfile(config)
DefaultScope.get_instance('gpu_check_loader', scope_name=cfg.default_scope)
loader_cfg = cfg.train_dataloader
loader_cfg.update(batch_size=int(batch), num_workers=int(workers), persistent_workers=False,
                  drop_last=True)
loader_cfg.dataset.data_root = data_root
iterator = iter(Runner.build_dataloader(loader_cfg, seed=0))
next(iterator)  # workers started, first batch ready
start, images = time.perf_counter(), 0
for _ in range(int(batches)):
    images += len(next(iterator)['data_samples'])
print(json.dumps(dict(workers=int(workers), images_per_s=images / (time.perf_counter() - start))))
'''


def measure_loader(config, data_root, batch, worker_counts, batches, gpu_images_per_s,
                   deadline, timeout, num_images):
    """Images/s of ``config``'s training loader per worker count; the batch is cut to
    what ``num_images`` images give for the warm-up batch and ``batches`` timed ones
    (images/s does not depend on it; the GPU's batch can exceed the demo folder)."""
    batch = min(batch, num_images // (batches + 1))
    runs = []
    for workers in worker_counts:
        if time.time() > deadline:
            runs.append(dict(workers=workers, skipped='time budget'))
            continue
        code, out, err = _run([sys.executable, '-c', LOADER_SCRIPT, config, data_root,
                               str(batch), str(workers), str(batches)], timeout)
        runs.append(json.loads(out.splitlines()[-1]) if code == 0 else
                    dict(workers=workers, error=err))
    enough = [run['workers'] for run in runs if gpu_images_per_s and
              run.get('images_per_s', 0) >= gpu_images_per_s]
    return dict(config=config, batch=batch, gpu_images_per_s=gpu_images_per_s, runs=runs,
                workers_to_keep_up=min(enough) if enough else None)


def save_report(report: dict, path: str, start: float) -> None:
    """Write the report so far (atomically): a run cut short keeps its sections."""
    report['elapsed_s'] = time.time() - start
    atomic_write(path, (json.dumps(report, indent=2) + '\n').encode())


def main(argv=None):
    args = parse_args(argv)
    start = time.time()
    deadline = start + args.budget_s
    # enough images for the largest batch (mmpretrain's MAE: 512); reused when complete
    num_images = 30 if args.dry_run else 520
    # the tests' demo data is the test suite's own set (tests/conftest.py, MMSSL_DEMO_DATA)
    for root, count in ((args.data_root, num_images), (args.test_data_root, 30)):
        code, _, err = _run([sys.executable, 'tools/dataset_converters/make_demo_data.py',
                             '--out', root, '--num-unlabeled', str(count)], 600)
        if code != 0:
            raise RuntimeError(f'building the demo data {root} failed: {err}')
    imagenet = osp.join(args.data_root, 'imagenet')
    report = dict(dry_run=args.dry_run, device=device_info(args.dry_run, args.peak_tflops))
    peak = report['device']['peak_bf16_tflops']
    report['tests'] = run_tests(args.dry_run, args.test_data_root,
                                300 if args.dry_run else 150)
    save_report(report, args.out, start)

    models = DRY_MODELS if args.dry_run else MODELS
    settings = (['--device', 'cpu', '--iters', '1', '--warmup', '0', '--data-samples', '1',
                 '--retries', '0'] if args.dry_run else
                ['--device', 'cuda', '--amp', '--amp-dtype', 'bfloat16', '--iters', '5',
                 '--warmup', '2', '--data-samples', '20', '--retries', '1', '--workers',
                 str(min(12, os.cpu_count() or 1))])
    report['models'] = {}
    for name, (config, batch, options) in models.items():
        if time.time() > deadline:
            report['models'][name] = dict(config=config, skipped='time budget')
            continue
        report['models'][name] = measure_model(
            config, batch, [f'train_dataloader.dataset.data_root={imagenet}', *options],
            settings, peak, timeout=300, min_batch=1 if args.dry_run else 8)
        save_report(report, args.out, start)
    report['prroi'] = measure_prroi(args.dry_run, 120)
    save_report(report, args.out, start)

    cim = report['models'].get('cim_vit-t' if args.dry_run else 'cim_vit-b', {})
    report['cim_loader'] = measure_loader(
        DRY_CIM_CONFIG if args.dry_run else CIM_CONFIG, imagenet,
        cim.get('batch', 2 if args.dry_run else 256),
        [1, 2] if args.dry_run else [2, 4, 8, 12, 16], 2 if args.dry_run else 4,
        cim.get('images_per_s'), deadline + 60, timeout=180, num_images=num_images)
    save_report(report, args.out, start)
    summary = {name: {key: model.get(key) for key in
                      ('batch', 'step_time_median_s', 'images_per_s', 'peak_memory_mb',
                       'mfu', 'sdpa_flash_or_efficient', 'error', 'skipped')}
               for name, model in report['models'].items()}
    print(json.dumps(dict(tests=report['tests']['summary'], models=summary,
                          cim_workers_to_keep_up=report['cim_loader']['workers_to_keep_up'],
                          elapsed_s=report['elapsed_s']), indent=1))


if __name__ == '__main__':
    main()
