# mmdet's runtime with the plugin imported and checkpoints of the wrong kind refused
# (CheckpointKindHook, registered in mmpretrain's scope).
_base_ = ['mmdet::_base_/default_runtime.py']

custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)
default_scope = 'mmdet'
custom_hooks = [dict(type='mmpretrain.CheckpointKindHook')]
