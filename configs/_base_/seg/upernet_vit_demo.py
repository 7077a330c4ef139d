# Smoke recipe of the ViT UperNet transfer on a CPU: the full model / optimiser recipe
# on the demo ADE20K set with 128 x 128 crops (sliding-window test, stride 85), BN
# instead of SyncBN, narrow heads (64 channels), 4 iterations (2 of warm-up), one mIoU
# evaluation at the end, last checkpoint only. Algorithm configs set the tiny backbone
# of their demo pre-training config and `embed_dims`.
_base_ = [
    './upernet_vit.py',
    './ade20k_demo.py',
    './schedule_adamw-layer-decay_160k.py',
    './default_runtime.py',
]

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    neck=dict(norm_cfg=norm_cfg),
    decode_head=dict(channels=64, norm_cfg=norm_cfg),
    auxiliary_head=dict(channels=64, norm_cfg=norm_cfg),
    test_cfg=dict(crop_size=(128, 128), stride=(85, 85)))

train_cfg = dict(max_iters=4, val_interval=4)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=4, max_keep_ckpts=1))
