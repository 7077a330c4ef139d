"""SafeCheckpointHook on a real Runner: complete files, disk-full saves, damaged resumes."""
import errno
import os
import os.path as osp

import mmengine.fileio.backends.local_backend as local_backend
import pytest
import torch
from utils.toy_runner import toy_runner

import mmssl_ext.utils.checkpoint_files as checkpoint_files
from mmssl_ext.utils.checkpoint_files import atomic_write, checkpoint_damage


class _FillsTheDisk:
    """A file whose write stores half of the bytes, then fails as a full disk does."""

    def __init__(self, file):
        self.file = file

    def write(self, data):
        self.file.write(data[:len(data) // 2])
        self.file.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.file.close()


def _disk_full_for(marker):
    """``open`` whose files with ``marker`` in their name hit a full disk when written."""
    real_open = open

    def faulty_open(path, mode='r', *args, **kwargs):
        file = real_open(path, mode, *args, **kwargs)
        if marker in osp.basename(str(path)) and set(mode) & set('wxa'):
            return _FillsTheDisk(file)
        return file

    return faulty_open


def _files(work_dir):
    """Files of the work dir but the Runner's config dump (<timestamp>.py)."""
    return sorted(name for name in os.listdir(work_dir)
                  if osp.isfile(work_dir / name) and not name.endswith('.py'))


def _last_checkpoint(work_dir):
    return (work_dir / 'last_checkpoint').read_text()


def test_checkpoints_are_complete_and_rotated_after_saving(tmp_path):
    toy_runner(tmp_path, 4).train()  # keeps 2
    assert _files(tmp_path) == ['iter_3.pth', 'iter_4.pth', 'last_checkpoint']
    assert _last_checkpoint(tmp_path) == str(tmp_path / 'iter_4.pth')
    for step in (3, 4):
        path = tmp_path / f'iter_{step}.pth'
        assert checkpoint_damage(path) is None
        assert torch.load(path, weights_only=True)['meta']['iter'] == step


def test_disk_full_keeps_the_previous_checkpoint_and_leaves_no_partial_file(
        tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint_files, 'open', _disk_full_for('iter_2'), raising=False)
    runner = toy_runner(tmp_path, 3, default_hooks=dict(checkpoint=dict(max_keep_ckpts=1)))
    with pytest.raises(OSError) as error:
        runner.train()
    assert error.value.errno == errno.ENOSPC
    assert _files(tmp_path) == ['iter_1.pth', 'last_checkpoint']
    assert _last_checkpoint(tmp_path) == str(tmp_path / 'iter_1.pth')
    assert torch.load(tmp_path / 'iter_1.pth', weights_only=True)['meta']['iter'] == 1


def test_mmengine_checkpoint_hook_loses_both_checkpoints_on_the_same_fault(
        tmp_path, monkeypatch):
    """What SafeCheckpointHook fixes: the stock hook deletes the old checkpoint first and
    writes the new one in place, leaving a truncated file."""
    monkeypatch.setattr(local_backend, 'open', _disk_full_for('iter_2'), raising=False)
    runner = toy_runner(tmp_path, 3, default_hooks=dict(
        checkpoint=dict(type='CheckpointHook', max_keep_ckpts=1)))
    with pytest.raises(OSError):
        runner.train()
    assert _files(tmp_path) == ['iter_2.pth', 'last_checkpoint']
    assert checkpoint_damage(tmp_path / 'iter_2.pth') is not None


def test_atomic_write_replaces_whole_files_only(tmp_path, monkeypatch):
    target = tmp_path / 'file.bin'
    atomic_write(target, b'old contents')
    monkeypatch.setattr(checkpoint_files, 'open', _disk_full_for('file.bin'), raising=False)
    with pytest.raises(OSError):
        atomic_write(target, b'new contents that do not fit')
    assert target.read_bytes() == b'old contents'
    assert os.listdir(tmp_path) == ['file.bin']


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def test_auto_resume_skips_a_damaged_last_checkpoint(tmp_path):
    toy_runner(tmp_path / 'reference', 4).train()
    reference = torch.load(tmp_path / 'reference' / 'iter_4.pth', weights_only=True)

    work_dir = tmp_path / 'run'
    toy_runner(work_dir, 3, default_hooks=dict(checkpoint=dict(max_keep_ckpts=3))).train()
    _truncate(work_dir / 'iter_3.pth')
    assert 'zip' in checkpoint_damage(work_dir / 'iter_3.pth')
    resumed = toy_runner(work_dir, 4, resume=True)
    resumed.train()  # from iteration 2, then iterations 3 and 4 again
    final = torch.load(work_dir / 'iter_4.pth', weights_only=True)
    for key, value in reference['state_dict'].items():
        assert torch.equal(final['state_dict'][key], value)
    assert checkpoint_damage(work_dir / 'iter_3.pth') is None  # rewritten whole
    logs = [osp.join(root, name) for root, _, names in os.walk(work_dir) for name in names
            if name.endswith('.log')]
    text = ''.join(open(path).read() for path in logs)
    assert f"last checkpoint '{work_dir / 'iter_3.pth'}' is damaged" in text
    assert f'newest intact checkpoint {work_dir / "iter_2.pth"}' in text


def test_resume_from_a_named_damaged_checkpoint_is_an_error(tmp_path):
    toy_runner(tmp_path, 3, default_hooks=dict(checkpoint=dict(max_keep_ckpts=3))).train()
    _truncate(tmp_path / 'iter_3.pth')
    runner = toy_runner(tmp_path, 4, resume=True, load_from=str(tmp_path / 'iter_3.pth'))
    with pytest.raises(RuntimeError, match='iter_3.pth.*iter_2.pth'):
        runner.train()
