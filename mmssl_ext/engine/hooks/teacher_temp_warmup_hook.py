from mmengine.hooks import Hook

from mmssl_ext.registry import HOOKS
from ..utils import bare_model


@HOOKS.register_module()
class TeacherTempWarmupHook(Hook):
    """Set ``model.teacher_temp`` at the start of every epoch (DINO / iBOT warm-up).

    ``tau(e) = start + (end - start) * e / (warmup_epochs - 1)`` for ``e <
    warmup_epochs`` (``numpy.linspace(start, end, warmup_epochs)[e]``), then ``end``.
    Reads ``runner.epoch``, so a resumed run continues the schedule; the model is
    unwrapped from its distributed wrapper, so it works with and without DDP.

    Args:
        start (float): temperature of epoch 0. Defaults to 0.04.
        end (float): temperature after the warm-up. Defaults to 0.07.
        warmup_epochs (int): epochs of the linear warm-up. Defaults to 30.
    """

    priority = 'NORMAL'

    def __init__(self, start: float = 0.04, end: float = 0.07, warmup_epochs: int = 30) -> None:
        if start <= 0 or end <= 0 or warmup_epochs < 0:
            raise ValueError(f'need start, end > 0 and warmup_epochs >= 0, got {start}, '
                             f'{end}, {warmup_epochs}')
        self.start, self.end, self.warmup_epochs = start, end, warmup_epochs

    def temperature(self, epoch: int) -> float:
        """Teacher temperature of an epoch."""
        if epoch >= self.warmup_epochs:
            return self.end
        if self.warmup_epochs == 1:
            return self.start
        return self.start + (self.end - self.start) * epoch / (self.warmup_epochs - 1)

    def before_train(self, runner) -> None:
        model = bare_model(runner)
        if not hasattr(model, 'teacher_temp'):
            raise TypeError(f'TeacherTempWarmupHook needs a model with a teacher_temp '
                            f'attribute, {type(model).__name__} has none')

    def before_train_epoch(self, runner) -> None:
        bare_model(runner).teacher_temp = self.temperature(runner.epoch)
