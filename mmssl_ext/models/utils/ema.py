"""Momentum (EMA) targets annealed over training iterations."""
import math

import torch
from mmengine.logging import MessageHub
from mmpretrain.models.utils import CosineEMA


class IterCosineEMA(CosineEMA):
    """mmpretrain's :class:`CosineEMA`, annealed over training iterations.

    Update rule (mmengine convention, ``momentum`` = weight of the NEW parameters)::

        m = end_momentum - (end_momentum - momentum) * (cos(pi * iter / max_iters) + 1) / 2
        target = (1 - m) * target + m * online

    ``CosineEMA`` anneals with ``steps / max_iters``, where ``steps`` counts its own
    updates. A target updated once per optimizer step under gradient accumulation
    (k iterations per step) would then see only the first 1/k of the schedule. Here the
    progress is ``iter / max_iters`` of the training loop, both read from the
    :class:`MessageHub` (set by mmengine's ``RuntimeInfoHook``), so the schedule does
    not depend on how often the target is updated. Like ``CosineEMA``, the first call
    of ``update_parameters`` copies the online parameters instead of averaging.
    ``MomentumSelfSupervisor`` updates several such targets in one fused step with
    :meth:`current_momentum`.
    """

    def current_momentum(self) -> float:
        """``m`` of the current training iteration."""
        hub = MessageHub.get_current_instance()
        iteration, max_iters = hub.get_info('iter'), hub.get_info('max_iters')
        if iteration is None or max_iters is None:
            raise RuntimeError("IterCosineEMA reads 'iter' and 'max_iters' from the "
                               'MessageHub: update it inside an mmengine training loop '
                               'or set both with MessageHub.update_info')
        annealing = (math.cos(math.pi * iteration / float(max_iters)) + 1) / 2
        return self.end_momentum - (self.end_momentum - self.momentum) * annealing

    def avg_func(self, averaged_param: torch.Tensor, source_param: torch.Tensor,
                 steps: int) -> None:
        """Average one parameter in place with the momentum of the current iteration."""
        momentum = self.current_momentum()
        averaged_param.mul_(1 - momentum).add_(source_param, alpha=momentum)
