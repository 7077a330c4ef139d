from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmengine.runner.checkpoint import CheckpointLoader

from mmssl_ext.registry import HOOKS
from mmssl_ext.utils.checkpoint_kind import (check_kind, check_load_report,
                                             checkpoint_state_dict, load_report, model_kind)


def _pretrained_inits(model):
    """(module, checkpoint, prefix) of every ``init_cfg=dict(type='Pretrained')``."""
    for module in model.modules():
        init_cfgs = getattr(module, 'init_cfg', None) or []
        for init_cfg in init_cfgs if isinstance(init_cfgs, list) else [init_cfgs]:
            if init_cfg.get('type') == 'Pretrained' and init_cfg.get('checkpoint'):
                yield module, init_cfg['checkpoint'], init_cfg.get('prefix')


@HOOKS.register_module()
class CheckpointKindHook(Hook):
    """Stamp the model's kind into checkpoints; refuse checkpoints of another kind.

    * Saving: ``meta['model_kind'] = {'algorithm', 'backbone', 'arch'}``
      (:func:`mmssl_ext.utils.checkpoint_kind.model_kind`).
    * ``load_from``, ``--resume`` and ``tools/test.py``: a checkpoint of another
      algorithm or architecture is an error naming both; so is a model weight the
      checkpoint lacks or holds with another shape. Only a ``load_from`` at the start of
      training may leave whole top-level modules (e.g. a detector's heads) to their
      initialisation, when the checkpoint has no key of theirs at all.
    * ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)``: checked before
      training, with the architecture of the module it fills (the checkpoint is read a
      second time, once per run).

    Every config of ours enables it (``configs/_base_/default_runtime.py`` and the
    det / seg runtimes).

    Args:
        check_kind (bool): compare ``meta['model_kind']``. Defaults to True.
        check_keys (bool): fail on missing / mis-shaped weights. Defaults to True.
        allowed_missing (Sequence[str]): regular expressions of model keys a checkpoint
            may lack (documented per config). Defaults to none.
    """

    priority = 'VERY_LOW'

    def __init__(self, check_kind: bool = True, check_keys: bool = True,
                 allowed_missing: Sequence[str] = ()) -> None:
        self.check_kind = check_kind
        self.check_keys = check_keys
        self.allowed_missing = tuple(allowed_missing)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})['model_kind'] = model_kind(runner.model)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        source = f'checkpoint {runner._load_from or "(resumed)"}'
        if self.check_kind:
            check_kind(checkpoint.get('meta', {}).get('model_kind'), runner.model, source)
        if not self.check_keys:
            return
        state_dict = checkpoint_state_dict(checkpoint)
        allowed = self.allowed_missing
        starts_training = isinstance(getattr(runner, '_train_loop', None), BaseLoop)
        if starts_training and not runner._resume:
            covered = {key.split('.', 1)[0] for key in state_dict}
            model = getattr(runner.model, 'module', runner.model)  # DDP-wrapped or not
            allowed += tuple(rf'^{name}\.' for name, _ in model.named_children()
                             if name not in covered)
        check_load_report(load_report(state_dict, runner.model, allowed), source)

    def before_train(self, runner) -> None:
        if runner._resume:
            return
        for module, filename, prefix in _pretrained_inits(runner.model):
            self._check_pretrained(module, filename, prefix)

    def _check_pretrained(self, module, filename: str, prefix: Optional[str]) -> None:
        checkpoint = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
        source = f'init_cfg checkpoint {filename}' + (f' ({prefix}*)' if prefix else '')
        if self.check_kind:
            # a backbone / neck compares architectures; a whole model compares its kind
            check_kind(checkpoint.get('meta', {}).get('model_kind'), module, source,
                       backbone_only=not hasattr(module, 'backbone'))
        if self.check_keys:
            state_dict = checkpoint_state_dict(checkpoint)
            if prefix:
                prefix = prefix if prefix.endswith('.') else prefix + '.'
                state_dict = {key[len(prefix):]: value for key, value in state_dict.items()
                              if key.startswith(prefix)}
            check_load_report(load_report(state_dict, module, self.allowed_missing), source)
