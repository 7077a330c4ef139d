# ReSim / MoCo v2 schedule: SGD lr 0.03 at batch 256 (8 x 32), momentum 0.9, weight decay
# 1e-4 on all parameters, cosine decay over 200 epochs (per epoch, as MoCo).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4))

param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=200, by_epoch=True, begin=0, end=200),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
auto_scale_lr = dict(base_batch_size=256)
