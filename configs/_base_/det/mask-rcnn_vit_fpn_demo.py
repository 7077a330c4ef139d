# Smoke recipe of the ViT Mask R-CNN transfer on a CPU: the full model / optimiser
# recipe on the demo COCO set, BN instead of SyncBN, 4 iterations (2 of warm-up), one
# COCO bbox / segm evaluation at the end, last checkpoint only. Algorithm configs set
# the tiny backbone of their demo pre-training config and the neck (BN, not SyncBN,
# FPN width `fpn_channels`). Narrow heads (64 channels), fewer proposals / RoIs, and
# test score threshold 0 so that an untrained detector still reports COCO metrics.
_base_ = [
    './mask-rcnn_vit_fpn.py',
    './coco_instance_demo.py',
    './schedule_adamw-layer-decay_1x.py',
    './default_runtime.py',
]

fpn_channels = 64
model = dict(
    rpn_head=dict(in_channels=fpn_channels, feat_channels=fpn_channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=fpn_channels),
        bbox_head=dict(in_channels=fpn_channels, fc_out_channels=256),
        mask_roi_extractor=dict(out_channels=fpn_channels),
        mask_head=dict(num_convs=2, in_channels=fpn_channels,
                       conv_out_channels=fpn_channels)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=200),
                   rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=200), rcnn=dict(score_thr=0.0)))

train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=4, val_interval=4)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)]
log_processor = dict(by_epoch=False)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(by_epoch=False, interval=4, max_keep_ckpts=1))
