# Smoke transfer of the CIM demo encoder (configs/cim/vit-t_demo.py: 4 blocks, 96-d,
# patch 16) into UperNet on the demo ADE20K set, on a CPU; all four blocks feed the
# pyramid. model.backbone.init_cfg.checkpoint=<configs/cim/vit-t_demo.py checkpoint>
_base_ = ['../../_base_/seg/upernet_vit_demo.py']

embed_dims = 96
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=embed_dims, num_layers=4, num_heads=3,
                  feedforward_channels=384),
        img_size=96,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.0),
    neck=dict(embed_dim=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4),
    auxiliary_head=dict(in_channels=embed_dims))
