from typing import Sequence

from mmengine.hooks import Hook

from mmssl_ext.registry import HOOKS
from ..utils import bare_model


@HOOKS.register_module()
class FreezeLastLayerHook(Hook):
    """Drop the gradients of the projection heads' last layer for the first epochs.

    DINO's ``cancel_gradients_last_layer``: while ``runner.epoch < epochs``, the
    gradients of every trainable parameter whose name contains one of ``keys`` are
    set to None just before each optimizer step (an optimizer step pre-hook, so it
    also runs after AMP's unscaling and after the DDP all-reduce); the optimizer then
    skips those parameters (no update, no weight decay, no moment update).

    Args:
        epochs (int): epochs with a frozen last layer. Defaults to 1.
        keys (Sequence[str]): parameter name parts. Defaults to ('last_layer',).
    """

    priority = 'NORMAL'

    def __init__(self, epochs: int = 1, keys: Sequence[str] = ('last_layer', )) -> None:
        if epochs < 0:
            raise ValueError(f'epochs must be >= 0, got {epochs}')
        self.epochs, self.keys = epochs, tuple(keys)
        self.frozen, self._params, self._handle = False, [], None

    def before_train(self, runner) -> None:
        self._params = [param for name, param in bare_model(runner).named_parameters()
                        if param.requires_grad and any(key in name for key in self.keys)]
        if not self._params:
            raise ValueError(f'FreezeLastLayerHook: no trainable parameter name contains '
                             f'any of keys={self.keys}')
        self._handle = runner.optim_wrapper.optimizer.register_step_pre_hook(self._cancel)

    def before_train_epoch(self, runner) -> None:
        self.frozen = runner.epoch < self.epochs

    def after_train(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _cancel(self, optimizer, args, kwargs) -> None:
        if self.frozen:
            for param in self._params:
                param.grad = None
