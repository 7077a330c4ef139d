# ADE20K UperNet of a PQCL ViT-S/16 (the teacher encoder; paper Table 3: 45.2 mIoU after
# 200 epochs): the ViT-B recipe with the 384-d ViT-S (UPerHead in_channels [384] * 4,
# 512 channels, as mmseg's DeiT-S UperNet).
_base_ = ['./upernet_vit-b_160k_ade20k-512x512.py']

embed_dims = 384
model = dict(
    backbone=dict(arch='deit-small'),
    neck=dict(embed_dim=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4, channels=512),
    auxiliary_head=dict(in_channels=embed_dims))
