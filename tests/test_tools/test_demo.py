"""tools/misc/demo.sh (`make demo`): pre-training, both pictures and both measurements,
shortened to two epochs of the tests' demo data."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

import mmssl_ext  # noqa: F401  (safe globals for weights-only loading of checkpoints)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SPECIFICITY = re.compile(
    r'exemplar specificity on (\d+) image\(s\) x (\d+) draws \((\d+) exemplars\): soft IoU '
    r'of each predicted map with its own ground truth ([\d.]+), with the other exemplars\' '
    r'maps ([\d.]+), gap ([+-][\d.]+)')


@pytest.mark.slow
def test_demo_script_trains_draws_and_measures_held_out_and_seen_photos(
        tmp_path, demo_data_root):
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    result = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'misc', 'demo.sh'), sys.executable,
         str(demo_data_root), str(tmp_path), '--epochs', '2'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    work_dir = tmp_path / 'cim'
    checkpoint = torch.load(work_dir / 'epoch_2.pth', weights_only=True)
    assert checkpoint['meta']['epoch'] == 2  # --epochs reached tools/train.py
    assert (work_dir / 'correlation_maps.png').stat().st_size > 0
    assert (work_dir / 'correlation_maps_pretraining_photo.png').stat().st_size > 0

    lines = {line.split(' ', 2)[1]: line for line in result.stdout.splitlines()
             if line.startswith('[demo] held-out') or line.startswith('[demo] pre-training')}
    num_train = sum(len(files) for _, _, files in os.walk(demo_data_root / 'imagenet' / 'train'))
    num_val = sum(len(files) for _, _, files in os.walk(demo_data_root / 'imagenet' / 'val'))
    expected = {'held-out': (num_val, 8), 'pre-training': (num_train, 2)}
    for name, (images, draws) in expected.items():
        match = SPECIFICITY.search(lines[name])
        assert match, lines[name]
        assert (int(match[1]), int(match[2])) == (images, draws)
        assert int(match[3]) == images * draws * 4  # the demo's 4 exemplars per draw
        own, others, gap = (float(match[i]) for i in (4, 5, 6))
        assert gap == pytest.approx(own - others, abs=1.5e-3)
