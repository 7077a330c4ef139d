# COCO Mask R-CNN 1x of a PQCL ViT-S/16 (the TEACHER encoder, the PQCL / iBOT
# evaluation convention; paper Table 2: 43.1 / 39.3 AP box / mask after 200 epochs). The
# paper gives no fine-tuning hyper-parameters, so the CAE paper's ViT-S recipe:
# multi-scale 480-800, AdamW lr 3e-4 at batch 32 (8 GPUs x 4), layer decay 0.75, drop
# path 0.1, blocks (3, 5, 7, 11) -> ViTFeaturePyramid -> FPN.
#   model.backbone.init_cfg.checkpoint=<PQCL checkpoint> (prefix 'teacher_backbone.module.')
_base_ = [
    '../../_base_/det/mask-rcnn_vit_fpn.py',
    '../../_base_/det/coco_instance_ms-480-800.py',
    '../../_base_/det/schedule_adamw-layer-decay_1x.py',
    '../../_base_/det/default_runtime.py',
]

embed_dims = 384
model = dict(
    backbone=dict(
        arch='deit-small',
        drop_path_rate=0.1,
        init_cfg=dict(prefix='teacher_backbone.module.')),
    neck=[
        dict(type='ViTFeaturePyramid', embed_dims=embed_dims,
             norm_cfg=dict(type='SyncBN', requires_grad=True)),
        dict(type='FPN', in_channels=[embed_dims] * 4, out_channels=256, num_outs=5),
    ])
