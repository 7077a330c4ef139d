# COCO Mask R-CNN 1x of a PQCL ViT-B/16 (the teacher encoder): the CAE paper's ViT-B
# recipe (drop path 0.2; see mask-rcnn_vit-s_fpn_1x_coco.py).
#   model.backbone.init_cfg.checkpoint=<PQCL checkpoint> (prefix 'teacher_backbone.module.')
_base_ = [
    '../../_base_/det/mask-rcnn_vit_fpn.py',
    '../../_base_/det/coco_instance_ms-480-800.py',
    '../../_base_/det/schedule_adamw-layer-decay_1x.py',
    '../../_base_/det/default_runtime.py',
]

model = dict(backbone=dict(init_cfg=dict(prefix='teacher_backbone.module.')))
