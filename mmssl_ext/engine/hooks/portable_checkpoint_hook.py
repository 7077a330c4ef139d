from mmengine.hooks import Hook

from mmssl_ext.registry import HOOKS
from mmssl_ext.utils.checkpoint import make_portable


@HOOKS.register_module()
class PortableCheckpointHook(Hook):
    """Make every checkpoint of the run loadable with ``torch.load(weights_only=True)``.

    Before mmengine writes a checkpoint, its message-hub history buffers are saved
    without their statistic functions and numpy scalars become Python numbers
    (:func:`mmssl_ext.utils.make_portable`). ``--resume`` and ``load_from`` then work
    on torch >= 2.6 without allow-listing ``getattr`` or loading with
    ``weights_only=False``. All of mmssl_ext's configs enable it through
    ``configs/_base_/default_runtime.py``.
    """

    priority = 'VERY_LOW'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        make_portable(checkpoint)
