"""Base of the algorithms with momentum (EMA) targets: CIM, PQCL, CAE (option), ReSim."""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmpretrain.models.selfsup import BaseSelfSupervisor

from ..utils.ema import IterCosineEMA


class MomentumSelfSupervisor(BaseSelfSupervisor):
    """A :class:`BaseSelfSupervisor` whose momentum targets follow their sources.

    A subclass registers each target with :meth:`add_momentum_target` (the attribute
    name of the target, e.g. ``'target_encoder'``, and the name of its source: a
    submodule such as ``'backbone'`` or a method returning a module). A target is an
    :class:`IterCosineEMA` copy of its source, so its state-dict keys are
    ``<name>.module.*`` and ``<name>.steps``.

    :meth:`update_target` (called by ``TargetUpdateHook`` once per optimizer step)
    moves every target at once, with the momentum of the current training iteration
    (mmengine's convention, ``m`` = weight of the NEW parameters)::

        m = end_momentum - (end_momentum - base_momentum) * (cos(pi * iter / max_iters) + 1) / 2
        target = (1 - m) * target + m * source

    as one fused ``torch._foreach_lerp_`` over the floating parameters of all targets
    (``target + m * (source - target)``: one pass over memory; the arithmetic of
    mmpretrain's ``CosineEMA`` up to float rounding, with
    :meth:`IterCosineEMA.current_momentum`: ``iter`` and ``max_iters`` come from the
    :class:`MessageHub`). As in ``IterCosineEMA``, a target whose ``steps`` is 0 is
    copied instead of averaged, and buffers (e.g. BN statistics) are copied from the
    source, never averaged. :meth:`init_weights` makes every fresh target an exact copy
    of its initialised source.

    Args:
        base_momentum (float, optional): ``m`` at the start of training, in [0, 1].
            Defaults to the algorithm's ``default_momentum[0]``.
        end_momentum (float, optional): ``m`` at the end of training, in [0, 1].
            Defaults to the algorithm's ``default_momentum[1]``.
        **kwargs: :class:`BaseSelfSupervisor` arguments (``backbone``, ``neck``,
            ``head``, ``target_generator``, ``pretrained``, ``data_preprocessor``,
            ``init_cfg``).
    """

    #: (base_momentum, end_momentum) of the algorithm's published recipe
    default_momentum: Tuple[float, float] = (0.004, 0.0)

    def __init__(self, base_momentum: Optional[float] = None,
                 end_momentum: Optional[float] = None, **kwargs) -> None:
        base_momentum = self.default_momentum[0] if base_momentum is None else base_momentum
        end_momentum = self.default_momentum[1] if end_momentum is None else end_momentum
        for name, value in (('base_momentum', base_momentum), ('end_momentum', end_momentum)):
            if not 0. <= value <= 1.:
                raise ValueError(f'{name} must be in [0, 1], got {value}')
        super().__init__(**kwargs)
        self.base_momentum, self.end_momentum = base_momentum, end_momentum
        self._momentum_sources: Dict[str, str] = {}

    def add_momentum_target(self, name: str, source: str) -> None:
        """Create ``self.<name>``, an EMA copy of ``self.<source>`` (or of the module
        ``self.<source>()`` returns), and register it for :meth:`update_target`."""
        setattr(self, name, IterCosineEMA(self._source(source), momentum=self.base_momentum,
                                          end_momentum=self.end_momentum))
        self._momentum_sources[name] = source

    def _source(self, source: str) -> nn.Module:
        module = getattr(self, source)
        return module if isinstance(module, nn.Module) else module()

    def momentum_targets(self) -> List[Tuple[IterCosineEMA, nn.Module]]:
        """The registered (target, source) pairs."""
        return [(getattr(self, name), self._source(source))
                for name, source in self._momentum_sources.items()]

    def init_weights(self) -> None:
        """Initialise, then make every fresh target an exact copy of its source."""
        super().init_weights()
        self._update_targets(fresh_only=True)

    @torch.no_grad()
    def update_target(self) -> None:
        """One EMA step of every target towards its source (``TargetUpdateHook``)."""
        if not self._momentum_sources:
            raise RuntimeError(f'{type(self).__name__} has no momentum target to update '
                               '(drop TargetUpdateHook from the config)')
        self._update_targets(fresh_only=False)

    @torch.no_grad()
    def _update_targets(self, fresh_only: bool) -> None:
        averaged: Dict[float, List[torch.Tensor]] = {}  # by momentum
        online: Dict[float, List[torch.Tensor]] = {}
        for target, source in self.momentum_targets():
            if fresh_only and target.steps > 0:
                continue
            sources = dict(source.named_parameters())
            pairs = [(param, sources[name].detach())
                     for name, param in target.module.named_parameters()]
            if target.steps == 0:
                torch._foreach_copy_([t for t, _ in pairs], [s for _, s in pairs])
            else:
                momentum = target.current_momentum()
                for param, source_param in pairs:
                    if param.dtype.is_floating_point:
                        averaged.setdefault(momentum, []).append(param.data)
                        online.setdefault(momentum, []).append(source_param.to(param.device))
            buffers = list(zip(target.module.buffers(), source.buffers()))
            if buffers:
                torch._foreach_copy_([b.data for b, _ in buffers],
                                     [s.data.to(b.device) for b, s in buffers])
            target.steps += 1
        for momentum, params in averaged.items():
            torch._foreach_lerp_(params, online[momentum], momentum)
