"""A test probe hook: what each rank's model did in a short training run.

Registered as ``DDPProbeHook`` when a config imports ``utils.ddp_probe`` (tests/ on the
path). Per rank it writes ``probe_rank<r>.json`` to the work dir after every iteration:

* ``trainable``: names of the parameters with ``requires_grad`` when training starts;
* ``no_grad_first_iter``: those of them whose gradient was never accumulated during the
  first iteration's backward (post-accumulate-grad hooks, so DDP and gradient
  accumulation do not hide anything);
* ``iters``: per iteration, the loss terms, a float64 sum of every parameter (trained,
  frozen and EMA copies) and of the buffers.
"""
import json
import os.path as osp
from functools import partial

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmssl_ext.registry import HOOKS


def _bare(runner):
    return runner.model.module if is_model_wrapper(runner.model) else runner.model


@HOOKS.register_module()
class DDPProbeHook(Hook):

    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        model = _bare(runner)
        self.trainable = sorted(name for name, p in model.named_parameters() if p.requires_grad)
        self.received, self.iters = set(), []
        self.handles = [param.register_post_accumulate_grad_hook(partial(self._mark, name))
                        for name, param in model.named_parameters() if param.requires_grad]

    def _mark(self, name: str, param: torch.Tensor) -> None:
        self.received.add(name)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if batch_idx == 0 and not self.iters:
            self.no_grad_first_iter = sorted(set(self.trainable) - self.received)
            for handle in self.handles:
                handle.remove()
        model = _bare(runner)
        with torch.no_grad():
            self.iters.append(dict(
                iter=runner.iter + 1,
                losses={key: float(value) for key, value in outputs.items()},
                params={name: float(p.double().sum()) for name, p in model.named_parameters()},
                buffers={name: float(b.double().sum()) for name, b in model.named_buffers()
                         if b.is_floating_point()}))
        with open(osp.join(runner.work_dir, f'probe_rank{get_rank()}.json'), 'w') as file:
            json.dump(dict(trainable=self.trainable, no_grad_first_iter=self.no_grad_first_iter,
                           iters=self.iters), file)
