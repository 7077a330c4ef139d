# CIM with a ResNet-50 encoder (paper Table 6; the reference has no ResNet code).
# Design (ours): CIMResNet flattens C5 into decoder tokens (160 px context -> 5x5 cells,
# 64 px exemplar -> 2x2 cells, 2048-d) with the global average in the class slot; the
# decoder adds a 5x5 sin-cos position embedding to the context stream. Same decoder,
# loss and schedule as ViT-B.
_base_ = ['./vit-b_300e_in1k.py']

model = dict(
    backbone=dict(_delete_=True, type='CIMResNet', depth=50),
    neck=dict(in_channels=2048))
