from .portable_checkpoint_hook import PortableCheckpointHook
from .target_update_hook import TargetUpdateHook

__all__ = ['PortableCheckpointHook', 'TargetUpdateHook']
