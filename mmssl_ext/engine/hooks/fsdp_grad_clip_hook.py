from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch.distributed.fsdp import FullyShardedDataParallel

from mmssl_ext.registry import HOOKS


@HOOKS.register_module()
class FSDPGradClipHook(Hook):
    """``optim_wrapper.clip_grad`` on the global gradient norm of an FSDP-sharded model.

    mmengine's optim wrapper clips with ``torch.nn.utils.clip_grad_norm_`` over the
    gradients it holds; under FSDP each rank holds only its shard, so every rank would
    clip with the norm of its own shard. Before training this hook makes the wrapper
    clip with the root module's ``FullyShardedDataParallel.clip_grad_norm_``, which
    all-reduces the norm over the ranks (same ``max_norm`` / ``norm_type``; the
    logged ``grad_norm`` is the global one). Used by the FSDP configs
    (``configs/_base_/fsdp.py``).
    """

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        model = runner.model
        if not (is_model_wrapper(model) and isinstance(model, FullyShardedDataParallel)):
            raise TypeError(f'FSDPGradClipHook needs a model wrapped by FSDP '
                            f'(FlexibleRunner with FSDPStrategy), got {type(model).__name__}')
        if runner.optim_wrapper.clip_grad_kwargs:
            runner.optim_wrapper.clip_func = (
                lambda params, **kwargs: model.clip_grad_norm_(**kwargs))
