"""tools/train.py --epochs: the PQCL demo shortened to 2 epochs ends its schedules."""
import math
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

import mmssl_ext  # noqa: F401  (safe globals for weights-only loading of checkpoints)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'pqcl', 'vit-t_demo.py')
ITERS_PER_EPOCH = 2  # 30 demo images, batch 16, drop_last=False


@pytest.mark.slow
def test_pqcl_demo_two_epochs_reaches_the_schedule_ends(tmp_path, demo_data_root):
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'), CONFIG, '--epochs', '2',
         '--work-dir', str(tmp_path), '--no-persistent-workers', '--cfg-options',
         f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}',
         'train_dataloader.num_workers=0'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]

    # The demo checkpoints every 50 of 150 epochs: every epoch of 2.
    assert (tmp_path / 'epoch_1.pth').exists()
    checkpoint = torch.load(tmp_path / 'epoch_2.pth', weights_only=True)
    assert checkpoint['meta']['iter'] == 2 * ITERS_PER_EPOCH
    scalars = checkpoint['message_hub']['log_scalars']

    # Teacher temperature warm-up 40 of 150 epochs -> 1 of 2: 0.04 in epoch 0, 0.07 after
    # (without the rescaling epoch 1 would be at 0.04 + 0.03 / 39).
    temps = scalars['train/teacher_temp'].data[0]
    assert temps == pytest.approx([0.04] * ITERS_PER_EPOCH + [0.07] * ITERS_PER_EPOCH)

    # Learning rate, per iteration: linear warm-up 20 of 150 epochs -> 1 (2 iterations from
    # 1e-3 x base to base: mmengine's LinearLR reaches its end factor at its last
    # iteration), then cosine over the last epoch (T_max 2 iterations) down to eta_min.
    base, eta_min, start = 1e-3, 1e-6, 1e-3
    expected = [base * start, base, base,
                eta_min + (base - eta_min) * (1 + math.cos(math.pi / 2)) / 2]
    assert scalars['train/lr'].data[0] == pytest.approx(expected, rel=1e-6)
    # mmengine's schedulers stop updating at their end, so the optimizer keeps the values
    # of the last iteration: that lr, and the weight decay cosine (0.04 -> 10 x 0.04 over
    # the 4 iterations of the shortened run) at step 3 on the decayed parameter group.
    groups = checkpoint['optimizer']['param_groups']
    assert [group['lr'] for group in groups] == pytest.approx([expected[-1]] * len(groups))
    weight_decay = 0.4 + (0.04 - 0.4) * (1 + math.cos(math.pi * 3 / 4)) / 2
    assert max(group['weight_decay'] for group in groups) == pytest.approx(weight_decay)
