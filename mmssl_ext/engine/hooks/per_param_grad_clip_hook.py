import torch
from mmengine.hooks import Hook

from mmssl_ext.registry import HOOKS


@HOOKS.register_module()
class PerParamGradClipHook(Hook):
    """Clip the gradient norm of every parameter separately (DINO's clip_gradients).

    Before each optimizer step (an optimizer step pre-hook: after AMP's unscaling
    and the DDP all-reduce), each gradient ``g`` with ``||g|| > max_norm`` is scaled
    by ``max_norm / (||g|| + 1e-6)``. Replaces ``optim_wrapper.clip_grad`` (which
    clips the global norm): configuring both is an error.

    Args:
        max_norm (float): largest norm of one parameter's gradient. Defaults to 3.0.
    """

    priority = 'NORMAL'

    def __init__(self, max_norm: float = 3.0) -> None:
        if max_norm <= 0:
            raise ValueError(f'max_norm must be > 0, got {max_norm}')
        self.max_norm = max_norm
        self._handle = None

    def before_train(self, runner) -> None:
        if runner.optim_wrapper.clip_grad_kwargs:
            raise ValueError('PerParamGradClipHook replaces optim_wrapper.clip_grad: '
                             'remove clip_grad from the optim_wrapper config')
        self._handle = runner.optim_wrapper.optimizer.register_step_pre_hook(self._clip)

    def after_train(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    @torch.no_grad()
    def _clip(self, optimizer, args, kwargs) -> None:
        """All gradients at once: one fused norm per tensor, one fused rescale."""
        grads = [param.grad for group in optimizer.param_groups for param in group['params']
                 if param.grad is not None]
        if not grads:
            return
        norms = torch.stack([norm.float() for norm in torch._foreach_norm(grads)])
        scales = (self.max_norm / (norms + 1e-6)).clamp(max=1.)
        torch._foreach_mul_(grads, [scale.to(grad.dtype) for scale, grad in
                                    zip(scales.unbind(), grads)])
