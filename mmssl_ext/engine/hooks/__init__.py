from .checkpoint_kind_hook import CheckpointKindHook
from .collapse_monitor_hook import CollapseMonitorHook, teacher_collapse_stats
from .freeze_last_layer_hook import FreezeLastLayerHook
from .fsdp_grad_clip_hook import FSDPGradClipHook
from .knn_monitor_hook import KNNMonitorHook
from .non_finite_loss_hook import NonFiniteLossHook
from .per_param_grad_clip_hook import PerParamGradClipHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .target_update_hook import TargetUpdateHook
from .teacher_temp_warmup_hook import TeacherTempWarmupHook

__all__ = ['CheckpointKindHook', 'CollapseMonitorHook', 'FreezeLastLayerHook',
           'FSDPGradClipHook', 'KNNMonitorHook', 'NonFiniteLossHook', 'PerParamGradClipHook',
           'SafeCheckpointHook', 'TargetUpdateHook', 'TeacherTempWarmupHook',
           'teacher_collapse_stats']
