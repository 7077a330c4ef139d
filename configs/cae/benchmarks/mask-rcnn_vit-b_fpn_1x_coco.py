# COCO Mask R-CNN 1x of a CAE ViT-B/16 encoder (CAE paper Sec. 5.2; paper: 50.0 / 44.0
# AP box / mask after 1600 pre-training epochs): mmpretrain's BEiTViT with CAE's q/v
# bias and LayerScale, the absolute position embedding of pre-training (resized to
# each multi-scale input; BEiTViT's relative position bias is fixed to one grid, so it
# is not added for detection), blocks (3, 5, 7, 11), drop path 0.2; multi-scale
# 480-800, AdamW lr 3e-4 at batch 32 (8 GPUs x 4), layer decay 0.75.
#   model.backbone.init_cfg.checkpoint=<CAE pre-training checkpoint> (prefix 'backbone.')
_base_ = [
    '../../_base_/det/mask-rcnn_vit_fpn.py',
    '../../_base_/det/coco_instance_ms-480-800.py',
    '../../_base_/det/schedule_adamw-layer-decay_1x.py',
    '../../_base_/det/default_runtime.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.BEiTViT',
        norm_cfg=dict(type='LN', eps=1e-6),  # as CAE's encoder
        arch='base',
        img_size=224,
        patch_size=16,
        bias='qv_bias',
        layer_scale_init_value=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=False,
        out_indices=(3, 5, 7, 11),
        out_type='featmap',
        final_norm=False,
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))
