import atexit
import glob
import os.path as osp
import signal
import threading
from typing import Callable, Optional

import torch
from mmengine.dist import all_reduce, barrier, get_world_size, is_main_process
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook
from mmengine.runner import EpochBasedTrainLoop
from mmengine.runner.checkpoint import find_latest_checkpoint

from mmssl_ext.registry import HOOKS
from mmssl_ext.utils.checkpoint_files import atomic_write, checkpoint_damage


class _IgnoreSigterm:
    """Dataloader ``worker_init_fn`` that makes a worker ignore SIGTERM first.

    A scheduler's SIGTERM reaches every process of the job; a worker killed by it makes
    the main process raise before it has saved. The main process ends its workers itself.
    """

    def __init__(self, worker_init_fn: Optional[Callable]) -> None:
        self.worker_init_fn = worker_init_fn

    def __call__(self, worker_id: int) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if self.worker_init_fn is not None:
            self.worker_init_fn(worker_id)


def _shutdown_workers(dataloader) -> None:
    """Stop the workers of ``dataloader``'s live iterator (persistent workers).

    They ignore SIGTERM, so multiprocessing's exit handler, which terminates and then
    joins them, would wait forever; asked through their queues, they exit.
    """
    iterator = getattr(dataloader, '_iterator', None)
    if iterator is not None and hasattr(iterator, '_shutdown_workers'):
        iterator._shutdown_workers()


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """mmengine's :class:`CheckpointHook` that loses at most the current iteration.

    Same arguments and file names as ``CheckpointHook``, plus:

    * **Atomic writes.** Local checkpoints go through the ``atomic_local`` file backend
      (temporary file, fsync, rename) unless ``backend_args`` names another backend;
      ``last_checkpoint`` is written the same way, and only after the checkpoint is
      complete. Old checkpoints (``max_keep_ckpts``) are removed only after the new one
      is safely written, so a failed save (disk full) leaves the previous checkpoint,
      ``last_checkpoint`` and no partial file.
    * **SIGTERM** (what slurm sends before preemption or at the time limit), with
      ``save_on_sigterm=True``: the current iteration finishes, a checkpoint of it is
      saved (``iter_<n>.pth`` mid-epoch, the regular ``epoch_<n>.pth`` at an epoch's
      end; outside the ``max_keep_ckpts`` rotation) and recorded in
      ``last_checkpoint``, and the process exits with status 0; ``--resume``
      continues from it. Across ranks the request is combined every iteration (one
      all-reduce of a flag), so all ranks stop after the same iteration. Dataloader
      workers are made to ignore SIGTERM; the main process shuts them down, persistent
      ones included (after training, and at exit after an error or a SIGTERM save).
      mmengine's ``EpochBasedTrainLoop`` has no position inside an epoch: resuming
      from a mid-epoch checkpoint continues the weights, optimizer, schedules and
      iteration count, and draws that epoch's batches again from its start.
    * **Damaged last checkpoint.** With ``--resume`` (auto), a ``last_checkpoint`` that
      names a missing or damaged file is skipped: training resumes from the newest
      intact checkpoint in its directory with a warning naming both. A damaged file
      named explicitly (``--resume PATH``) is an error naming it and the newest intact
      one.

    Args:
        save_on_sigterm (bool): save and exit on SIGTERM. Defaults to True.
        **kwargs: :class:`CheckpointHook` arguments.
    """

    def __init__(self, *args, save_on_sigterm: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.save_on_sigterm = save_on_sigterm
        self._sigterm_received = False
        self._previous_handler = None

    # ------------------------------------------------------------------ resume
    def before_run(self, runner) -> None:
        if not runner._resume:
            return
        if runner._load_from is not None:
            damage = checkpoint_damage(runner._load_from) \
                if _is_local(runner._load_from) else None
            if damage is not None:
                newest = _newest_intact(osp.dirname(runner._load_from), runner._load_from)
                raise RuntimeError(
                    f'cannot resume from {runner._load_from}: {damage}. The newest '
                    f'intact checkpoint next to it is {newest or "none"}.')
            return
        latest = find_latest_checkpoint(runner.work_dir)
        if latest is None or not _is_local(latest):
            return
        damage = checkpoint_damage(latest) if latest else 'last_checkpoint is empty'
        if damage is None:
            return
        directory = osp.dirname(latest) if latest else runner.work_dir
        newest = _newest_intact(directory, latest)
        if newest is None:
            raise RuntimeError(f'cannot resume: the last checkpoint {latest!r} is damaged '
                               f'({damage}) and {directory} holds no intact checkpoint')
        runner.logger.warning(f'The last checkpoint {latest!r} is damaged ({damage}); '
                              f'resuming from the newest intact checkpoint {newest}.')
        runner._load_from = newest

    # ------------------------------------------------------------------ saving
    def before_train(self, runner) -> None:
        if self.backend_args is None and self.file_client_args is None and \
                _is_local(self.out_dir or runner.work_dir):
            self.backend_args = dict(backend='atomic_local')
        super().before_train(runner)
        if self.save_on_sigterm:
            self._install_sigterm_handler(runner)

    def after_train(self, runner) -> None:
        super().after_train(runner)
        _shutdown_workers(runner.train_dataloader)
        atexit.unregister(_shutdown_workers)
        if self._previous_handler is not None:
            signal.signal(signal.SIGTERM, self._previous_handler)
            self._previous_handler = None

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        """As ``CheckpointHook``'s, reordered: save, then ``last_checkpoint``, then prune."""
        evicted = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                evicted = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        self._write(runner, self.filename_tmpl.format(step), meta)
        if evicted is not None and is_main_process():
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(evicted))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):
                self.file_backend.rmtree(path)

    def _write(self, runner, filename: str, meta: dict) -> None:
        """Save a checkpoint, then point ``last_checkpoint`` at it."""
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        # Runner keeps the epoch / iter of ``meta``; FlexibleRunner overwrites them from
        # ``by_epoch``, so pass the value that reproduces them.
        by_epoch = (meta['epoch'], meta['iter']) == (runner.epoch + 1, runner.iter)
        runner.save_checkpoint(
            self.out_dir, filename, self.file_client_args, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=by_epoch,
            backend_args=self.backend_args, **self.args)
        if is_main_process():
            atomic_write(osp.join(runner.work_dir, 'last_checkpoint'),
                         self.last_ckpt.encode())

    # ------------------------------------------------------------------ SIGTERM
    def _install_sigterm_handler(self, runner) -> None:
        if threading.current_thread() is not threading.main_thread():
            runner.logger.warning('SafeCheckpointHook: not in the main thread, '
                                  'SIGTERM will not save a checkpoint')
            return
        self._previous_handler = signal.signal(signal.SIGTERM, self._on_sigterm)
        dataloader = runner.train_dataloader
        if getattr(dataloader, 'num_workers', 0) > 0 and \
                not isinstance(dataloader.worker_init_fn, _IgnoreSigterm):
            dataloader.worker_init_fn = _IgnoreSigterm(dataloader.worker_init_fn)
            atexit.register(_shutdown_workers, dataloader)

    def _on_sigterm(self, signum, frame) -> None:
        self._sigterm_received = True

    def _stop_requested(self) -> bool:
        """Whether any rank received SIGTERM (the same answer on every rank)."""
        if not self.save_on_sigterm:
            return False
        if get_world_size() == 1:
            return self._sigterm_received
        flag = torch.tensor([int(self._sigterm_received)])
        all_reduce(flag, op='max')
        return bool(flag.item())

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        epoch_loop = isinstance(runner.train_loop, EpochBasedTrainLoop)
        if epoch_loop and batch_idx + 1 == len(runner.train_dataloader):
            return  # the epoch's end hooks (schedulers, saving) run first
        if self._stop_requested():
            self._save_and_exit(runner, f'iter_{runner.iter + 1}.pth',
                                dict(epoch=runner.epoch, iter=runner.iter + 1))

    def after_train_epoch(self, runner) -> None:
        super().after_train_epoch(runner)
        # IterBasedTrainLoop calls this once, after its last iteration: nothing to do.
        if isinstance(runner.train_loop, EpochBasedTrainLoop) and self._stop_requested():
            template = self.filename_tmpl if self.by_epoch else 'iter_{}.pth'
            step = runner.epoch + 1 if self.by_epoch else runner.iter
            self._save_and_exit(runner, template.format(step),
                                dict(epoch=runner.epoch + 1, iter=runner.iter))

    def _save_and_exit(self, runner, filename: str, meta: dict) -> None:
        if self.last_ckpt != self.file_backend.join_path(self.out_dir, filename):
            self._write(runner, filename, meta)
        runner.logger.info(f'SIGTERM: saved {self.last_ckpt} after iteration {meta["iter"]}; '
                           'exiting. Continue with --resume.')
        barrier()
        raise SystemExit(0)


def _is_local(path: str) -> bool:
    return isinstance(get_file_backend(path), LocalBackend)


def _newest_intact(directory: str, exclude: Optional[str]) -> Optional[str]:
    """The most recently written intact ``*.pth`` in ``directory`` other than ``exclude``."""
    excluded = osp.realpath(exclude) if exclude else None
    candidates = [path for path in glob.glob(osp.join(directory or '.', '*.pth'))
                  if osp.realpath(path) != excluded]
    for path in sorted(candidates, key=osp.getmtime, reverse=True):
        if checkpoint_damage(path) is None:
            return path
    return None
