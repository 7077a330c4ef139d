# Smoke transfer of the ReSim demo (configs/resim/r18_demo.py: ResNet-18, 64-channel
# FPN) into Mask R-CNN on the demo COCO set, on a CPU, ReSim-FPN^T style: the backbone
# and the FPN laterals / P3-P4 output convs start from pre-training. The R50 recipe
# with BN instead of SyncBN, narrow heads (64 channels), fewer proposals / RoIs, test
# score threshold 0 (an untrained detector still reports COCO metrics), 4 iterations.
#   python tools/model_converters/convert.py --from resim-official CKPT OUT --with-fpn
#   model.backbone.init_cfg.checkpoint=OUT model.neck.init_cfg.checkpoint=OUT
_base_ = [
    '../../_base_/det/mask-rcnn_r50_fpn_syncbn.py',
    '../../_base_/det/coco_instance_demo.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    '../../_base_/det/default_runtime.py',
]

channels = 64
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=channels, norm_cfg=norm_cfg,
              init_cfg=dict(type='Pretrained', checkpoint='', prefix='neck.')),
    rpn_head=dict(in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(in_channels=channels, conv_out_channels=channels,
                       fc_out_channels=256, norm_cfg=norm_cfg),
        mask_roi_extractor=dict(out_channels=channels),
        mask_head=dict(num_convs=2, in_channels=channels, conv_out_channels=channels,
                       norm_cfg=norm_cfg)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=200),
                   rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=200), rcnn=dict(score_thr=0.0)))

train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=4, val_interval=4)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=2)]
log_processor = dict(by_epoch=False)
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(by_epoch=False, interval=4, max_keep_ckpts=1))
# The neck weights ReSim-FPN^T leaves new are documented as missing for the load check.
custom_hooks = [dict(type='mmpretrain.CheckpointKindHook', allowed_missing=[
    r'^lateral_convs\.0\.', r'^fpn_convs\.[03]\.', r'^(lateral|fpn)_convs\.\d+\.bn\.'])]
