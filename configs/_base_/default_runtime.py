# Runtime shared by every mmssl_ext pre-training config.
custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)
default_scope = 'mmpretrain'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # CheckpointHook + atomic writes, save-and-exit on SIGTERM, resume past a damaged
    # last checkpoint (mmssl_ext/engine/hooks/safe_checkpoint_hook.py).
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False),
    # Checkpoints carry meta['model_kind']; a checkpoint of another algorithm or
    # architecture is an error (mmssl_ext/utils/checkpoint_kind.py). A default hook (a
    # dict entry) survives configs that set their own custom_hooks. Weights-only loading
    # needs no hook: importing mmssl_ext is enough (mmssl_ext/utils/checkpoint.py).
    checkpoint_kind=dict(type='CheckpointKindHook'),
    # A NaN / inf loss or gradient stops the run before the state is saved.
    non_finite_loss=dict(type='NonFiniteLossHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when no GPU is present.
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, diff_rank_seed=True)
