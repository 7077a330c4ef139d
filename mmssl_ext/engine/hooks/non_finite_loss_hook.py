import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapperDict

from mmssl_ext.registry import HOOKS


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training at a NaN / inf loss before that state is stepped into or saved.

    Two checks, both before anything can save the iteration's state:

    * before every optimizer step (an optimizer step pre-hook: after the backward, the
      DDP all-reduce and AMP's unscaling), all gradients are checked with one fused norm;
      if any is non-finite the step is skipped (every gradient is dropped, so the
      optimizer leaves parameters and moments as they were). The gradients are
      all-reduced, so every rank makes the same decision. AMP's loss scaler skips its own
      overflowing steps before this check, as usual;
    * after the iteration (priority ``ABOVE_NORMAL``: before the EMA target update, the
      logger and the checkpoint hook), each logged loss term (keys containing
      ``'loss'``) is checked.

    A non-finite iteration raises ``FloatingPointError`` naming the iteration and the
    non-finite loss terms (or, when the loss is finite, the first parameter with a
    non-finite gradient), so the run stops with
    a non-zero exit status and the last checkpoint remains the last finite state. With
    ``max_skips > 0`` up to that many consecutive non-finite iterations are skipped and
    logged instead; one more stops the run.

    In every mmssl_ext config through ``configs/_base_/default_runtime.py``; other
    packages' configs add it with ``custom_hooks = [dict(type='mmpretrain.NonFiniteLossHook')]``
    (and ``custom_imports`` of ``mmssl_ext``).

    Args:
        max_skips (int): consecutive non-finite iterations skipped before stopping.
            Defaults to 0 (stop at the first).
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, max_skips: int = 0) -> None:
        if max_skips < 0:
            raise ValueError(f'max_skips must be >= 0, got {max_skips}')
        self.max_skips = max_skips
        self.consecutive = 0
        self._bad_gradient = None
        self._names, self._handles = {}, []

    def before_train(self, runner) -> None:
        wrappers = runner.optim_wrapper.values() \
            if isinstance(runner.optim_wrapper, OptimWrapperDict) else [runner.optim_wrapper]
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._names = {param: name for name, param in model.named_parameters()}
        self._handles = [wrapper.optimizer.register_step_pre_hook(self._check_gradients)
                         for wrapper in wrappers]

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    @torch.no_grad()
    def _check_gradients(self, optimizer, args, kwargs) -> None:
        params = [param for group in optimizer.param_groups for param in group['params']
                  if param.grad is not None]
        if not params:
            return
        norms = torch.stack([norm.float() for norm in
                             torch._foreach_norm([param.grad for param in params])])
        if bool(torch.isfinite(norms).all()):
            return
        first = params[int((~torch.isfinite(norms)).nonzero()[0])]
        self._bad_gradient = self._names.get(first, 'a parameter')
        for param in params:
            param.grad = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        bad_terms = {key: float(value) for key, value in (outputs or {}).items()
                     if 'loss' in key and not bool(torch.isfinite(torch.as_tensor(value)).all())}
        bad_gradient, self._bad_gradient = self._bad_gradient, None
        if not bad_terms and bad_gradient is None:
            self.consecutive = 0
            return
        self.consecutive += 1
        if bad_terms:
            terms = ', '.join(f'{key}={value}' for key, value in bad_terms.items())
            message = f'Non-finite loss at iteration {runner.iter + 1}: {terms}.'
        else:
            terms = ', '.join(f'{key}={float(value):.4g}' for key, value in outputs.items()
                              if 'loss' in key)
            message = (f'Non-finite gradient at iteration {runner.iter + 1}: {bad_gradient} '
                       f'(finite loss terms: {terms}).')
        if self.consecutive > self.max_skips:
            last = runner.message_hub.get_info('last_ckpt')
            raise FloatingPointError(
                f'{message} Stopping; no checkpoint is saved from this state'
                + (f' (last checkpoint: {last})' if last else '') + '.')
        runner.logger.warning(f'{message} Its non-finite gradients are not applied '
                              f'({self.consecutive} consecutive, at most {self.max_skips}).')
