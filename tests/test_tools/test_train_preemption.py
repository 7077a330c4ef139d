"""tools/train.py under SIGTERM (what slurm sends before preemption): save, exit 0, resume."""
import os
import re
import signal
import subprocess
import time

import pytest
import torch
from utils.training import ROOT, run, tool_env, train_cmd


@pytest.mark.slow
def test_sigterm_saves_the_iteration_exits_cleanly_and_resumes(tmp_path, demo_data_root):
    args = train_cmd(
        f'{ROOT}/configs/cim/vit-t_demo.py', '--work-dir', str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=1',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1')
    # A session of its own: the signal goes to the whole group, dataloader worker included,
    # as a scheduler sends it to every process of the job.
    process = subprocess.Popen(args, cwd=ROOT, env=tool_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    deadline = time.time() + 600
    for line in process.stdout:
        lines.append(line)
        if re.search(r'Epoch\(train\)\s+\[1\]\[\s*1/15\]', line):
            os.killpg(process.pid, signal.SIGTERM)
            break
        assert time.time() < deadline, ''.join(lines)
    lines.extend(process.stdout)
    log = ''.join(lines)
    assert process.wait(timeout=300) == 0, log[-5000:]
    match = re.search(r'SIGTERM: saved (\S+) after iteration (\d+)', log)
    assert match, log[-3000:]
    checkpoint, stopped_at = match.group(1), int(match.group(2))
    assert 1 <= stopped_at < 15  # mid-epoch: at most the current iteration was lost
    assert (tmp_path / 'last_checkpoint').read_text() == checkpoint
    saved = torch.load(checkpoint, weights_only=True)
    assert saved['meta']['iter'] == stopped_at
    assert int(next(iter(saved['optimizer']['state'].values()))['step']) == stopped_at

    resumed = run(train_cmd(*args[2:], '--resume'), cwd=ROOT).log
    assert f'resumed epoch: 0, iter: {stopped_at}' in resumed
    final = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    assert final['meta']['epoch'] == 1
    # the optimizer continued from the saved state: one step per iteration in total
    assert int(next(iter(final['optimizer']['state'].values()))['step']) == \
        final['meta']['iter'] == stopped_at + 15
