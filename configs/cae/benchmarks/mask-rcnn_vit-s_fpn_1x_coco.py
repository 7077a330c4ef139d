# COCO Mask R-CNN 1x of a CAE ViT-S/16 encoder (384-d, 12 blocks, 12 heads, as
# configs/cae/vit-s_300e_in1k.py): the ViT-B recipe with drop path 0.1 (CAE paper).
_base_ = ['./mask-rcnn_vit-b_fpn_1x_coco.py']

embed_dims = 384
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=embed_dims, num_layers=12, num_heads=12,
                  feedforward_channels=1536),
        drop_path_rate=0.1),
    neck=[
        dict(type='ViTFeaturePyramid', embed_dims=embed_dims,
             norm_cfg=dict(type='SyncBN', requires_grad=True)),
        dict(type='FPN', in_channels=[embed_dims] * 4, out_channels=256, num_outs=5),
    ])
