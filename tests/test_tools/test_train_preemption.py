"""tools/train.py under SIGTERM (what slurm sends before preemption): save, exit 0, resume."""
import os
import re
import signal
import subprocess
import time

import pytest
import torch
from utils.training import ROOT, dist_train_cmd, run, tool_env, train_cmd

import mmssl_ext  # noqa: F401  (allow-lists what our checkpoints hold for weights_only)


def _terminate_after_first_logged_iteration(args, iters_per_epoch):
    """Start ``args`` in a session of its own; once the first training iteration is
    logged, send SIGTERM to the whole session (a scheduler signals every process of the
    job, dataloader workers and torchrun's agent included). Returns (exit status, log)."""
    process = subprocess.Popen(args, cwd=ROOT, env=tool_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = []
    deadline = time.time() + 600
    for line in process.stdout:
        lines.append(line)
        if re.search(rf'Epoch\(train\)\s+\[1\]\[\s*1/{iters_per_epoch}\]', line):
            os.killpg(process.pid, signal.SIGTERM)
            break
        assert time.time() < deadline, ''.join(lines)
    lines.extend(process.stdout)
    return process.wait(timeout=300), ''.join(lines)


def _saved(log, work_dir):
    match = re.search(r'SIGTERM: saved (\S+) after iteration (\d+)', log)
    assert match, log[-3000:]
    checkpoint, stopped_at = match.group(1), int(match.group(2))
    assert (work_dir / 'last_checkpoint').read_text() == checkpoint
    return checkpoint, stopped_at


@pytest.mark.slow
@pytest.mark.parametrize('persistent', [False, True])
def test_sigterm_saves_the_iteration_exits_cleanly_and_resumes(tmp_path, demo_data_root,
                                                               persistent):
    # persistent workers ignore SIGTERM too: the hook shuts them down, or the process
    # would hang at exit in multiprocessing's join (the resumed run ends normally)
    args = train_cmd(
        f'{ROOT}/configs/cim/vit-t_demo.py', '--work-dir', str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=1',
        f'train_dataloader.persistent_workers={persistent}',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1')
    returncode, log = _terminate_after_first_logged_iteration(args, 15)
    assert returncode == 0, log[-5000:]
    checkpoint, stopped_at = _saved(log, tmp_path)
    assert 1 <= stopped_at < 15  # mid-epoch: at most the current iteration was lost
    saved = torch.load(checkpoint, weights_only=True)
    assert saved['meta']['iter'] == stopped_at
    assert int(next(iter(saved['optimizer']['state'].values()))['step']) == stopped_at

    resumed = run(train_cmd(*args[2:], '--resume'), cwd=ROOT, timeout=300).log
    assert f'resumed epoch: 0, iter: {stopped_at}' in resumed
    final = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    assert final['meta']['epoch'] == 1
    # the optimizer continued from the saved state: one step per iteration in total
    assert int(next(iter(final['optimizer']['state'].values()))['step']) == \
        final['meta']['iter'] == stopped_at + 15


@pytest.mark.slow
def test_sigterm_under_dist_train_stops_both_ranks_after_the_same_iteration(
        tmp_path, demo_data_root):
    args = dist_train_cmd(
        f'{ROOT}/configs/cim/vit-t_demo.py', 2, '--work-dir', str(tmp_path), '--cfg-options',
        f'train_dataloader.dataset.data_root={demo_data_root / "imagenet"}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1')
    # torchrun itself reports the signal with a non-zero status once its workers are done.
    _, log = _terminate_after_first_logged_iteration(args, 8)  # 15 images per rank
    checkpoint, stopped_at = _saved(log, tmp_path)
    assert 'ChildFailedError' not in log and 'exitcode: 1' not in log, log[-5000:]
    assert torch.load(checkpoint, weights_only=True)['meta']['iter'] == stopped_at < 8
