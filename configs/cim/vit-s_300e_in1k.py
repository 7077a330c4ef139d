# CIM ViT-S/16, 300 epochs on ImageNet-1k: the ViT-B recipe with a ViT-S encoder.
_base_ = ['./vit-b_300e_in1k.py']

model = dict(
    backbone=dict(arch='deit-small'),  # 384-d, 12 blocks, 6 heads (timm's vit_small)
    neck=dict(in_channels=384))
