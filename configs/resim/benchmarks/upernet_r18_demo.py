# Smoke transfer of the ReSim demo ResNet-18 (configs/resim/r18_demo.py) into UperNet on
# the demo ADE20K set, on a CPU: torchvision-layout ResNet (mmseg's ResNet, the names
# of mmpretrain's) with BN, narrow heads (64 channels), 128 x 128 crops, 4 iterations,
# one mIoU evaluation. model.backbone.init_cfg.checkpoint=<ReSim demo checkpoint>
_base_ = [
    'mmseg::_base_/models/upernet_r50.py',
    '../../_base_/seg/ade20k_demo.py',
    'mmseg::_base_/schedules/schedule_160k.py',
    '../../_base_/seg/default_runtime.py',
]

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(128, 128)),
    pretrained=None,
    backbone=dict(
        type='ResNet',
        depth=18,
        norm_cfg=norm_cfg,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    decode_head=dict(in_channels=[64, 128, 256, 512], channels=64, num_classes=150,
                     norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=256, channels=64, num_classes=150, norm_cfg=norm_cfg))

train_cfg = dict(max_iters=4, val_interval=4)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4, max_keep_ckpts=1))
