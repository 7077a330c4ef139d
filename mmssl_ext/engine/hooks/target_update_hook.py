from mmengine.hooks import Hook
from mmengine.optim import OptimWrapperDict

from mmssl_ext.registry import HOOKS
from ..utils import bare_model


@HOOKS.register_module()
class TargetUpdateHook(Hook):
    """Call ``model.update_target()`` once after every optimizer step.

    For algorithms with a momentum (EMA) target such as :class:`CIM`. After each training
    iteration the hook asks the optim wrapper whether that iteration stepped the
    optimizer (``should_update()``: every ``accumulative_counts``-th iteration and the
    last one), so with gradient accumulation the target moves once per optimizer step,
    not once per forward. The update lives in a hook because mmengine's distributed
    wrapper runs its own ``train_step`` and bypasses the model's.
    """

    priority = 'NORMAL'  # after the optimizer step, before CheckpointHook saves

    def before_train(self, runner) -> None:
        model = bare_model(runner)
        if not callable(getattr(model, 'update_target', None)):
            raise TypeError(f'TargetUpdateHook needs a model with update_target(), '
                            f'{type(model).__name__} has none')
        if isinstance(runner.optim_wrapper, OptimWrapperDict):
            raise TypeError('TargetUpdateHook needs a single OptimWrapper, not an '
                            'OptimWrapperDict: it cannot tell which optimizer stepped')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if runner.optim_wrapper.should_update():
            bare_model(runner).update_target()
