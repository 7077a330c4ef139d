# Mask R-CNN on a plain ViT-B/16 (BEiT / CAE transfer recipe, CAE paper Sec. 5.2): block
# outputs (3, 5, 7, 11) as stride-16 maps -> ViTFeaturePyramid (4x / 2x / 1x / 0.5x,
# SyncBN between the 4x deconvolutions) -> FPN; mmdet's R50-FPN Mask R-CNN heads.
# The backbone loads a pre-training checkpoint (prefix 'backbone.') or an
# extract_backbone.py output (set prefix=None): model.backbone.init_cfg.checkpoint=...
_base_ = ['mmdet::_base_/models/mask-rcnn_r50_fpn.py']

embed_dims = 768
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.VisionTransformer',
        arch='base',
        img_size=224,  # the pre-training grid; pos_embed is resized to each input
        patch_size=16,
        out_indices=(3, 5, 7, 11),
        out_type='featmap',
        final_norm=False,
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=[
        dict(type='ViTFeaturePyramid', embed_dims=embed_dims,
             norm_cfg=dict(type='SyncBN', requires_grad=True)),
        dict(type='FPN', in_channels=[embed_dims] * 4, out_channels=256, num_outs=5),
    ])
