# Smoke transfer of the CAE demo encoder (configs/cae/vit-t_demo.py: 4 blocks, 96-d,
# patch 8) into Mask R-CNN on the demo COCO set, on a CPU; all four blocks feed the
# pyramid. Patch 8 halves every stride: pyramid maps at 2 / 4 / 8 / 16 px.
#   model.backbone.init_cfg.checkpoint=<configs/cae/vit-t_demo.py checkpoint>
_base_ = ['../../_base_/det/mask-rcnn_vit_fpn_demo.py']

embed_dims = 96
strides = [2, 4, 8, 16]
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.BEiTViT',
        norm_cfg=dict(type='LN', eps=1e-6),  # as CAE's encoder
        arch=dict(embed_dims=embed_dims, num_layers=4, num_heads=3,
                  feedforward_channels=384),
        img_size=64,
        patch_size=8,
        bias='qv_bias',
        layer_scale_init_value=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=False,
        out_indices=(0, 1, 2, 3),
        out_type='featmap',
        final_norm=False,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=[
        dict(type='ViTFeaturePyramid', embed_dims=embed_dims, norm_cfg=dict(type='BN')),
        dict(type='FPN', in_channels=[embed_dims] * 4, out_channels={{_base_.fpn_channels}},
             num_outs=5),
    ],
    rpn_head=dict(anchor_generator=dict(strides=strides + [32])),
    roi_head=dict(bbox_roi_extractor=dict(featmap_strides=strides),
                  mask_roi_extractor=dict(featmap_strides=strides)))
