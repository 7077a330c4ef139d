# ADE20K UperNet of a CAE ViT-B/16 encoder (CAE paper Sec. 5.2; paper: 50.2 mIoU after
# 1600 pre-training epochs): mmpretrain's BEiTViT with q/v bias, LayerScale, the
# pre-training absolute position embedding (resized to 32 x 32 when loaded) plus a new
# relative position bias per block (CAE's fine-tuning recipe; every 512 crop of training
# and of the sliding-window test has the 32 x 32 grid it is built for), drop path 0.1;
# batch 16 (8 GPUs x 2), 160k iterations, AdamW lr 1e-4 (the paper searches 1e-4 ..
# 4e-4), layer decay 0.65, 1500-iteration warm-up then PolyLR.
#   model.backbone.init_cfg.checkpoint=<CAE pre-training checkpoint> (prefix 'backbone.')
_base_ = [
    '../../_base_/seg/upernet_vit.py',
    '../../_base_/seg/ade20k_512x512_8xb2.py',
    '../../_base_/seg/schedule_adamw-layer-decay_160k.py',
    '../../_base_/seg/default_runtime.py',
]

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.BEiTViT',
        norm_cfg=dict(type='LN', eps=1e-6),  # as CAE's encoder
        arch='base',
        img_size=512,
        patch_size=16,
        bias='qv_bias',
        layer_scale_init_value=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        out_indices=(3, 5, 7, 11),
        out_type='featmap',
        final_norm=False,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))
