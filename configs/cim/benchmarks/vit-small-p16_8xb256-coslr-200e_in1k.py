# ImageNet-1k fine-tuning of a CIM ViT-S/16: the ViT-B recipe (reference script) for
# 200 epochs. Transfers the ONLINE encoder (prefix 'backbone.').
_base_ = ['./vit-base-p16_8xb256-coslr-100e_in1k.py']

model = dict(
    backbone=dict(arch='deit-small'),  # 384-d, 12 blocks, 6 heads (timm's vit_small)
    head=dict(in_channels=384))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=195,
        by_epoch=True,
        begin=5,
        end=200,
        eta_min=1e-6,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=200)
