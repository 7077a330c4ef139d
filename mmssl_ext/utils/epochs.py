"""Shorten or lengthen an epoch-based training config as a whole (``tools/train.py --epochs``)."""
import inspect
import math
from typing import Dict, Tuple

from mmengine.config import Config
from mmengine.optim.scheduler.param_scheduler import INF

from mmssl_ext.registry import HOOKS

# Epoch-valued fields of hooks, by hook type. Each is a length counted from epoch 0
# (a warm-up, a frozen phase) or an interval in epochs.
HOOK_EPOCH_FIELDS: Dict[str, Tuple[str, ...]] = {
    'TeacherTempWarmupHook': ('warmup_epochs', ),
    'FreezeLastLayerHook': ('epochs', ),
    'KNNMonitorHook': ('interval', ),
    'CheckpointHook': ('interval', ),
    'SafeCheckpointHook': ('interval', ),
}


def _scale(value: float, ratio: float) -> int:
    """``value * ratio`` rounded half up; a positive value stays at least 1, others stay."""
    if value <= 0:
        return value
    return max(1, math.floor(value * ratio + 0.5))


def _rescale_scheduler(scheduler: dict, old_epochs: int, new_epochs: int, ratio: float) -> None:
    if not scheduler.get('by_epoch', True):
        return  # counted in iterations: an iteration-based schedule is left alone

    def boundary(epoch):
        return new_epochs if epoch >= old_epochs else min(_scale(epoch, ratio), new_epochs)

    old_begin = scheduler.get('begin', 0)
    old_end = scheduler.get('end', None)
    begin = boundary(old_begin)
    if old_end is not None and old_end < INF:  # INF, mmengine's default, is "to the end"
        end = boundary(old_end)
        if old_end > old_begin and end <= begin:
            raise ValueError(
                f'--epochs {new_epochs} is too short for param_scheduler {scheduler["type"]} '
                f'over epochs [{old_begin}, {old_end}) of {old_epochs}: it would be empty')
        if 'T_max' in scheduler:
            scheduler['T_max'] = (end - begin if scheduler['T_max'] == old_end - old_begin
                                  else _scale(scheduler['T_max'], ratio))
        scheduler['end'] = end
    elif 'T_max' in scheduler:
        scheduler['T_max'] = _scale(scheduler['T_max'], ratio)
    scheduler['begin'] = begin
    if 'milestones' in scheduler:
        scheduler['milestones'] = [boundary(m) for m in scheduler['milestones']]


def _hook_default(hook_type: str, field: str):
    """The default of a hook's constructor argument, None where unknown."""
    hook_cls = HOOKS.get(hook_type)
    if hook_cls is None:
        return None
    parameter = inspect.signature(hook_cls).parameters.get(field)
    return None if parameter is None else parameter.default


def rescale_epochs(cfg: Config, epochs: int) -> Config:
    """Rescale every epoch-valued field of an epoch-based config to a run of ``epochs``.

    With ``ratio = epochs / train_cfg.max_epochs``:

    - ``train_cfg.max_epochs`` becomes ``epochs``; ``train_cfg.val_interval`` is scaled.
    - every ``param_scheduler`` counted in epochs (``by_epoch`` True, mmengine's default):
      ``begin``, ``end`` and ``milestones`` are epoch boundaries; a boundary at or past the
      old last epoch maps to ``epochs``, any other to ``round(boundary * ratio)`` capped at
      ``epochs``. ``T_max`` follows the new ``end - begin`` when it equalled the old one,
      else it is scaled. Iteration-based schedulers (``by_epoch=False``) are left alone.
    - the epoch fields of the hooks in ``custom_hooks`` and ``default_hooks``
      (:data:`HOOK_EPOCH_FIELDS`: teacher-temperature warm-up, frozen last layer, k-NN
      monitor interval, checkpoint interval when counted in epochs) are scaled.

    Rounding is half up. A nonzero length or boundary stays at least 1 (a warm-up or
    frozen phase never vanishes; a checkpoint or monitor interval never becomes 0), zero
    stays zero, a negative value (a disabled interval) stays as it is; a hook field the
    config leaves out is scaled from the hook's default. A scheduler phase that would
    become empty is an error naming it.
    ``cfg`` is changed in place and returned.

    Args:
        cfg (Config): a config with an epoch-based ``train_cfg.max_epochs``.
        epochs (int): the new number of epochs, >= 1.
    """
    old_epochs = cfg.get('train_cfg', {}).get('max_epochs', None)
    if old_epochs is None:
        raise ValueError('--epochs needs an epoch-based config (train_cfg.max_epochs); '
                         'this config has none')
    if epochs < 1:
        raise ValueError(f'--epochs must be >= 1, got {epochs}')
    ratio = epochs / old_epochs
    cfg.train_cfg.max_epochs = epochs
    if 'val_interval' in cfg.train_cfg:
        cfg.train_cfg.val_interval = _scale(cfg.train_cfg.val_interval, ratio)

    schedulers = cfg.get('param_scheduler', None) or []
    for scheduler in [schedulers] if isinstance(schedulers, dict) else schedulers:
        _rescale_scheduler(scheduler, old_epochs, epochs, ratio)

    hooks = list(cfg.get('custom_hooks', None) or [])
    hooks += [hook for hook in (cfg.get('default_hooks', None) or {}).values() if hook]
    for hook in hooks:
        if hook.get('by_epoch', True) is False:
            continue
        for field in HOOK_EPOCH_FIELDS.get(hook.get('type'), ()):
            value = hook.get(field, _hook_default(hook['type'], field))
            if isinstance(value, (int, float)):
                hook[field] = _scale(value, ratio)
    return cfg
