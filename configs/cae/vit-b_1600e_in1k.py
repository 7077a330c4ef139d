# CAE ViT-B/16, 1600 epochs, DALL-E token targets: 40 warm-up epochs (paper Sec. 5.2).
_base_ = './vit-b_300e_in1k.py'

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=1560, eta_min=1e-5, by_epoch=True, begin=40,
         end=1600, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=1600)
default_hooks = dict(checkpoint=dict(interval=100))
