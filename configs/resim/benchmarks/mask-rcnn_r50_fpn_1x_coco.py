# COCO Mask R-CNN R50-FPN 1x of a ReSim ResNet-50 (the query encoder; paper Table 5:
# ReSim-FPN 39.5 / 35.8 AP box / mask): SyncBN in backbone, FPN and heads, short side
# 640-800, SGD lr 0.02 at batch 16 (8 GPUs x 2), 12 epochs, steps at 8 and 11.
#   model.backbone.init_cfg.checkpoint=<ReSim pre-training checkpoint> (prefix 'backbone.')
_base_ = [
    '../../_base_/det/mask-rcnn_r50_fpn_syncbn.py',
    '../../_base_/det/coco_instance_ms-640-800.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    '../../_base_/det/default_runtime.py',
]
