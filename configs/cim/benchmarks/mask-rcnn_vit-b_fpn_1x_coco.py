# COCO Mask R-CNN 1x of a CIM ViT-B/16 (the online encoder; the CIM paper reports no
# COCO numbers, so the CAE paper's ViT recipe): multi-scale 480-800, AdamW lr 3e-4 at
# batch 32 (8 GPUs x 4), layer decay 0.75, drop path 0.2, ViTFeaturePyramid + FPN.
#   model.backbone.init_cfg.checkpoint=<CIM pre-training checkpoint> (prefix 'backbone.')
_base_ = [
    '../../_base_/det/mask-rcnn_vit_fpn.py',
    '../../_base_/det/coco_instance_ms-480-800.py',
    '../../_base_/det/schedule_adamw-layer-decay_1x.py',
    '../../_base_/det/default_runtime.py',
]
