# COCO Mask R-CNN 1x of a CIM ViT-S/16 (384-d, 12 blocks, 6 heads): the ViT-B recipe
# with drop path 0.1 (CAE paper, ViT-S).
_base_ = ['./mask-rcnn_vit-b_fpn_1x_coco.py']

embed_dims = 384
model = dict(
    backbone=dict(arch='deit-small', drop_path_rate=0.1),
    neck=[
        dict(type='ViTFeaturePyramid', embed_dims=embed_dims,
             norm_cfg=dict(type='SyncBN', requires_grad=True)),
        dict(type='FPN', in_channels=[embed_dims] * 4, out_channels=256, num_outs=5),
    ])
