from .checkpoint_kind_hook import CheckpointKindHook
from .freeze_last_layer_hook import FreezeLastLayerHook
from .per_param_grad_clip_hook import PerParamGradClipHook
from .target_update_hook import TargetUpdateHook
from .teacher_temp_warmup_hook import TeacherTempWarmupHook

__all__ = ['CheckpointKindHook', 'FreezeLastLayerHook', 'PerParamGradClipHook', 'TargetUpdateHook',
           'TeacherTempWarmupHook']
