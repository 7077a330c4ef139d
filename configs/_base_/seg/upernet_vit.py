# UperNet on a plain ViT-B/16 (BEiT / MAE / CAE ADE20K recipe): block outputs
# (3, 5, 7, 11) -> mmseg's Feature2Pyramid (4x / 2x / 1x / 0.5x, SyncBN) -> UPerHead
# (in_channels [768] * 4, channels 768) + FCN auxiliary head on the 1x map (weight 0.4);
# sliding-window test with 512 crops, stride 341. The backbone loads a pre-training
# checkpoint (prefix 'backbone.') or an extract_backbone.py output (prefix=None):
# model.backbone.init_cfg.checkpoint=...
_base_ = ['mmseg::_base_/models/upernet_beit.py']

embed_dims = 768
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=(512, 512)),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.VisionTransformer',
        arch='base',
        img_size=224,  # the pre-training grid; pos_embed is resized to each input
        patch_size=16,
        out_indices=(3, 5, 7, 11),
        out_type='featmap',
        final_norm=False,
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(type='Feature2Pyramid', embed_dim=embed_dims, rescales=[4, 2, 1, 0.5],
              norm_cfg=norm_cfg),
    decode_head=dict(in_channels=[embed_dims] * 4, channels=embed_dims, num_classes=150,
                     norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=embed_dims, num_classes=150, norm_cfg=norm_cfg),
    test_cfg=dict(mode='slide', crop_size=(512, 512), stride=(341, 341)))
