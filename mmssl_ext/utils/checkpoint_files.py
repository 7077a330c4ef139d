"""Checkpoint files that are never half-written, and a check for damaged ones.

* :func:`atomic_write` writes to a temporary file in the same directory, flushes it to
  disk and renames it over the destination: readers see the old file or the complete
  new one, never a truncated one; a failed write (disk full, quota) removes the
  temporary file and leaves the destination as it was.
* :class:`AtomicLocalBackend` is mmengine's local file backend with atomic ``put``,
  registered as ``backend='atomic_local'``. Any mmengine ``CheckpointHook`` writes
  checkpoints atomically with ``backend_args=dict(backend='atomic_local')``;
  :class:`~mmssl_ext.engine.hooks.SafeCheckpointHook` uses it by default.
* :func:`checkpoint_damage` says why a checkpoint file cannot be read back (None if it
  can), without unpickling it.
"""
import os
import os.path as osp
import uuid
import zipfile
from pathlib import Path
from typing import Optional, Union

from mmengine.fileio import LocalBackend, register_backend

__all__ = ['AtomicLocalBackend', 'atomic_write', 'checkpoint_damage']


def atomic_write(filepath: Union[str, Path], data: bytes) -> None:
    """Write ``data`` to ``filepath`` atomically (temporary file, fsync, rename)."""
    filepath = os.fspath(filepath)
    directory = osp.dirname(osp.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    temporary = osp.join(directory, f'.{osp.basename(filepath)}.{uuid.uuid4().hex[:8]}.tmp')
    try:
        with open(temporary, 'xb') as file:  # 'x': created here, mode from the umask
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, filepath)
    except BaseException:
        if osp.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's :class:`LocalBackend` whose ``put`` / ``put_text`` are atomic."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write(filepath, obj)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write(filepath, obj.encode(encoding))


def checkpoint_damage(filepath: Union[str, Path]) -> Optional[str]:
    """Why ``filepath`` is not a readable ``torch.save`` file, or None if it is.

    torch saves a zip archive; every member's CRC is checked, which catches truncated and
    overwritten files without unpickling anything. A file in torch's legacy (non-zip)
    format is reported as not a zip archive.
    """
    filepath = os.fspath(filepath)
    if not osp.isfile(filepath):
        return 'file not found'
    try:
        with zipfile.ZipFile(filepath) as archive:
            bad_member = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f'not a complete zip archive ({error})'
    if bad_member is not None:
        return f'CRC mismatch in {bad_member}'
    return None
