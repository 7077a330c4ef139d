import logging
import math
from typing import Dict, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmssl_ext.registry import HOOKS
from ..utils import bare_model


def teacher_collapse_stats(logits: torch.Tensor, center: torch.Tensor,
                           teacher_temp: float) -> Dict[str, float]:
    """Collapse indicators of centred, sharpened teacher outputs.

    Args:
        logits (Tensor): (N, K) or (N, L, K) teacher logits.
        center (Tensor): (1, K) centre of the distillation loss.
        teacher_temp (float): tau_t.

    Returns:
        dict: ``entropy_ratio``, the mean entropy of ``softmax((t - c) / tau_t)`` over
        ``ln K`` (1 for uniform outputs, DINO's uniform collapse); ``logit_spread``, the
        mean over outputs of the standard deviation over K of ``(t - c) / tau_t`` (0 when
        every prototype gets the same logit).
    """
    scaled = (logits.detach().float().flatten(0, -2) - center) / teacher_temp  # (M, K)
    log_probs = scaled.log_softmax(-1)
    entropy = -(log_probs.exp() * log_probs).sum(-1).mean()
    return dict(entropy_ratio=entropy.item() / math.log(scaled.shape[-1]),
                logit_spread=scaled.std(-1).mean().item())


@HOOKS.register_module()
class CollapseMonitorHook(Hook):
    """Watch the teacher of a centred self-distillation method (PQCL, DINO, iBOT) for
    collapse every ``interval`` iterations.

    A forward hook on each teacher head (``model.teacher_heads``, one per token kind)
    reads the teacher logits of the monitored iterations (a kind that shares the class
    head has no head of its own and is not watched; the class head's probe reads only its
    (N, K) class-token outputs); with the kind's loss centre
    (``model.losses[kind].center``, before that step's update) and ``model.teacher_temp``
    it computes :func:`teacher_collapse_stats`, logs ``collapse/<kind>_entropy_ratio``
    and ``collapse/<kind>_logit_spread`` to ``runner.message_hub`` and the visualizer,
    and logs a warning when the entropy exceeds ``max_entropy_ratio`` x ln K or the
    spread falls below ``min_spread``.

    Args:
        interval (int): iterations between checks. Defaults to 50.
        max_entropy_ratio (float): warning threshold of entropy / ln K. Defaults to 0.95.
        min_spread (float): warning threshold of the logit spread. Defaults to 0.1.
        kinds (Sequence[str]): token kinds to watch (those the model has).
            Defaults to ('cls', 'patch', 'query').
    """

    priority = 'NORMAL'

    def __init__(self, interval: int = 50, max_entropy_ratio: float = 0.95,
                 min_spread: float = 0.1,
                 kinds: Sequence[str] = ('cls', 'patch', 'query')) -> None:
        if interval < 1 or not 0 < max_entropy_ratio <= 1 or min_spread < 0:
            raise ValueError(f'CollapseMonitorHook needs interval >= 1, max_entropy_ratio '
                             f'in (0, 1], min_spread >= 0; got {interval}, '
                             f'{max_entropy_ratio}, {min_spread}')
        self.interval, self.kinds = interval, tuple(kinds)
        self.max_entropy_ratio, self.min_spread = max_entropy_ratio, min_spread
        self.stats: Dict[str, Dict[str, float]] = {}
        self._active, self._handles = False, []

    def before_train(self, runner) -> None:
        model = bare_model(runner)
        heads = getattr(getattr(model, 'teacher_heads', None), 'module', None)
        if heads is None or not hasattr(model, 'losses') or not hasattr(model, 'teacher_temp'):
            raise TypeError(f'CollapseMonitorHook needs a model with teacher_heads, losses '
                            f'and teacher_temp (PQCL), {type(model).__name__} has not')
        for kind in self.kinds:
            if kind in heads and kind in model.losses:
                self._handles.append(heads[kind].register_forward_hook(
                    self._make_probe(model, kind)))

    def _make_probe(self, model, kind):
        def probe(module, args, output):
            if self._active and (kind != 'cls' or output.dim() == 2):
                self.check(kind, output, model.losses[kind].center, model.teacher_temp)
        return probe

    def check(self, kind: str, logits: torch.Tensor, center: torch.Tensor,
              teacher_temp: float) -> Dict[str, float]:
        """Compute, store and (when past a threshold) warn about one kind's statistics."""
        stats = teacher_collapse_stats(logits, center, teacher_temp)
        self.stats[kind] = stats
        if stats['entropy_ratio'] > self.max_entropy_ratio or \
                stats['logit_spread'] < self.min_spread:
            print_log(f'teacher {kind} outputs may be collapsing: entropy '
                      f'{stats["entropy_ratio"]:.3f} x ln K (warn above '
                      f'{self.max_entropy_ratio}), logit spread {stats["logit_spread"]:.3g} '
                      f'(warn below {self.min_spread})', logger='current',
                      level=logging.WARNING)
        return stats

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._active = (runner.iter + 1) % self.interval == 0
        self.stats = {}

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._active = False
        scalars = {f'collapse/{kind}_{name}': value
                   for kind, stats in self.stats.items() for name, value in stats.items()}
        for name, value in scalars.items():
            runner.message_hub.update_scalar(f'train/{name}', value)
        if scalars:
            runner.visualizer.add_scalars(scalars, step=runner.iter + 1)

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
