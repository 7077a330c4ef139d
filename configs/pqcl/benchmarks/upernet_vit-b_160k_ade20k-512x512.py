# ADE20K UperNet of a PQCL ViT-B/16 (the teacher encoder; BEiT / MAE / iBOT protocol):
# 512 crops, batch 16 (8 GPUs x 2), 160k iterations, AdamW lr 1e-4, layer decay 0.65,
# 1500-iteration warm-up then PolyLR, drop path 0.1.
#   model.backbone.init_cfg.checkpoint=<PQCL checkpoint> (prefix 'teacher_backbone.module.')
_base_ = [
    '../../_base_/seg/upernet_vit.py',
    '../../_base_/seg/ade20k_512x512_8xb2.py',
    '../../_base_/seg/schedule_adamw-layer-decay_160k.py',
    '../../_base_/seg/default_runtime.py',
]

model = dict(backbone=dict(init_cfg=dict(prefix='teacher_backbone.module.')))
