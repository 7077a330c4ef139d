# mmseg's runtime with the plugin imported and checkpoints of the wrong kind refused
# (CheckpointKindHook, registered in mmpretrain's scope).
_base_ = ['mmseg::_base_/default_runtime.py']

custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)
default_scope = 'mmseg'
custom_hooks = [dict(type='mmpretrain.CheckpointKindHook')]
