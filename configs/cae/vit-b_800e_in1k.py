# CAE ViT-B/16, 800 epochs, DALL-E token targets: 20 warm-up epochs (reference script).
_base_ = './vit-b_300e_in1k.py'

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=20,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=780, eta_min=1e-5, by_epoch=True, begin=20,
         end=800, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=800)
default_hooks = dict(checkpoint=dict(interval=50))
