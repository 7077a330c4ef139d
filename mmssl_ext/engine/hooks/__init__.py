from .freeze_last_layer_hook import FreezeLastLayerHook
from .fsdp_grad_clip_hook import FSDPGradClipHook
from .per_param_grad_clip_hook import PerParamGradClipHook
from .portable_checkpoint_hook import PortableCheckpointHook
from .target_update_hook import TargetUpdateHook
from .teacher_temp_warmup_hook import TeacherTempWarmupHook

__all__ = ['FreezeLastLayerHook', 'FSDPGradClipHook', 'PerParamGradClipHook',
           'PortableCheckpointHook', 'TargetUpdateHook', 'TeacherTempWarmupHook']
