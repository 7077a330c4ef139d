# mmpretrain's own MoCo v2 (`MoCo`, `MoCoV2Neck`, `ContrastiveHead` and `ResNet` from
# mmpretrain's registry) at the small scale of configs/resim/r18_small-scale_fmnist.py:
# the independent peer of our MoCo v2 setting (configs/resim/mocov2_r18_small-scale_fmnist.py)
# and of ReSim, with the same ResNet-18, data, views, optimiser, schedule and budget.
#
# Same as ours: the first 5,120 images of pretrain/, batch 64, ReSimViews (two 64 px
# RandomResizedCrops, scale 0.2-1, shared flip) and the MoCo v2 colour pipeline of
# ReSimDataPreprocessor (batched on the device; MoCo ignores the crop boxes), MLP
# 512 -> 512 -> 128, queue 1024, temperature 0.2, key momentum 0.99 (EMA weight 0.01),
# SGD with our small-scale lr, cosine schedule; the k-NN monitor.
#
# What differs from ours, as mmpretrain implements it:
# - Plain BatchNorm: shuffle BN is a no-op in one process here too (batch_shuffle_ddp
#   permutes the local batch, which BN statistics ignore); ours uses SplitBN (4 groups)
#   to emulate 4 devices.
# - The key encoder moves inside `loss`, before the key forward (MoCo's order), with
#   mmengine's ExponentialMovingAverage; ours moves it after the optimizer step
#   (TargetUpdateHook): the key encoder lags one step behind mmpretrain's.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/datasets/fashion_mnist_knn_monitor.py',
    '../_base_/datasets/fashion_mnist_pretrain.py',
]
num_images = 5120  # the first images of pretrain/: 80 iterations per epoch
max_epochs = 4
lr = 0.06

model = dict(
    type='MoCo',
    queue_len=1024,
    feat_dim=128,
    momentum=0.01,
    backbone=dict(type='ResNet', depth=18, out_indices=(3, ), norm_cfg=dict(type='BN'),
                  zero_init_residual=False),
    neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=512, out_channels=128,
              with_avg_pool=True),
    head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
    data_preprocessor=dict(type='ReSimDataPreprocessor'))

train_dataloader = dict(
    _base_.fashion_mnist_pretrain_loader,
    dataset=dict(
        _base_.fashion_mnist_pretrain_loader.dataset,
        indices=num_images,
        pipeline=[
            dict(type='CheckedLoadImageFromFile'),
            dict(type='ReSimViews', size=64, scale=(0.2, 1.0), flip_prob=0.5),
            dict(type='PackInputs', algorithm_keys=['crop_boxes']),
        ]))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=lr, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True, begin=0,
         end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
custom_hooks = [{{_base_.knn_monitor_64px}}]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=_base_.fashion_mnist_pretrain_loader.batch_size)
