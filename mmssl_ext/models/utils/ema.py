"""Momentum (EMA) targets annealed over training iterations."""
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
    """

    def avg_func(self, averaged_param: torch.Tensor, source_param: torch.Tensor,
                 steps: int) -> None:
        """Average one parameter in place with the momentum of the current iteration."""
        iteration = MessageHub.get_current_instance().get_info('iter')
        if iteration is None:
            raise RuntimeError("IterCosineEMA reads 'iter' and 'max_iters' from the "
                               'MessageHub: update it inside an mmengine training loop '
                               'or set both with MessageHub.update_info')
        super().avg_func(averaged_param, source_param, iteration)
