# Linear probe of a PQCL ViT-B/16 teacher encoder (see the ViT-S config for the
# 'teacher_backbone.module.' prefix). DINO / iBOT's ViT-B feature: the last block's
# class token and its mean patch token, both after the final norm (2 x 768).
# Paper (cite, not reproduced): 76.9 (400 epochs).
_base_ = ['./vit-small-p16_8xb128-linear-coslr-100e_in1k.py']

model = dict(
    backbone=dict(arch='base', num_blocks=1, avgpool=True),
    head=dict(in_channels=2 * 768))
