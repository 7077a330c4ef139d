# Smoke transfer of the CAE demo encoder (configs/cae/vit-t_demo.py: 4 blocks, 96-d,
# patch 8) into UperNet on the demo ADE20K set, on a CPU, with the ViT-B recipe's
# relative position bias (16 x 16 grid of every 128 crop); all four blocks feed the
# pyramid. model.backbone.init_cfg.checkpoint=<configs/cae/vit-t_demo.py checkpoint>
_base_ = ['../../_base_/seg/upernet_vit_demo.py']

embed_dims = 96
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.BEiTViT',
        norm_cfg=dict(type='LN', eps=1e-6),  # as CAE's encoder
        arch=dict(embed_dims=embed_dims, num_layers=4, num_heads=3,
                  feedforward_channels=384),
        img_size=128,
        patch_size=8,
        bias='qv_bias',
        layer_scale_init_value=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=True,
        out_indices=(0, 1, 2, 3),
        out_type='featmap',
        final_norm=False,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(embed_dim=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4),
    auxiliary_head=dict(in_channels=embed_dims))
