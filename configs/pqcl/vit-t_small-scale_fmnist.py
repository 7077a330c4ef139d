# PQCL (iBOT baseline) at small scale: Fashion-MNIST (tools/dataset_converters/
# fashion_mnist.py, 32 px RGB; `make fashion-mnist`) with a 128-d, 4-block ViT, 4 px
# patches (8 x 8 grid), 16 px query crops (4 x 4 query tokens), 1024 prototypes,
# batch 64, on CPU. Budget (issue 13: about 6 minutes of pre-training on 2 quiet cores):
# 10 epochs of the first 1,280 images of pretrain/ = 200 iterations.
#
# Departures from the paper recipe, and why:
# - Teacher EMA 0.98 -> 1 (base_momentum=0.02; paper 0.996 -> 1). 0.996 has a time
#   constant of 250 iterations, longer than the whole run, and the cosine schedule
#   slows it further: the teacher would stay close to the random initialisation, and
#   a random tiny ViT gives nearly the same class token for every image, so the
#   centred teacher is nearly uniform and the student distils almost nothing. With
#   0.98 the teacher follows the student within ~50 iterations (the same reason as
#   the key-encoder momentum 0.99 of configs/resim/r18_small-scale_fmnist.py).
# - lr 1e-3 at batch 64 (the linear rule 5e-4 x 64 / 256 gives 1.25e-4), 1 warm-up
#   epoch (20 iterations), last layer frozen for that epoch: a few hundred
#   iterations need a larger step than a 100-epoch ImageNet schedule.
# - The teacher temperature stays at 0.04 (the paper warms it up 0.04 -> 0.07 over 30
#   epochs). At this scale the centred teacher is already close to uniform at 0.04
#   (entropy ~0.8 ln K once the centre has settled), and warming the temperature up
#   flattens it to ~0.97 ln K within the warm-up: loss_cls reaches ln K and stays
#   there, DINO's uniform collapse (the sharpening no longer outweighs the centring).
#   DINO's own advice is to start at 0.04 and raise it only if training is stable.
#   Measured on a 64-d, 2-block variant (320 images, batch 32, 40-60 iterations;
#   issue 13): class-token teacher entropy / ln K with the warm-up 0.82 (0.04) -> 0.95
#   (0.055) -> 0.97 (0.07), patch / query tokens 0.62 -> 0.87; at a constant 0.04 the
#   patch / query tokens stay at 0.60-0.65.
# - k-NN monitor once, at the end, with the first 10,000 images of train/ as its bank
#   (class-balanced within 6 %): the full 60,000-image bank would cost more than 10 %
#   of the run. Score the final encoder with configs/pqcl/benchmarks/vit-t_knn-fmnist.py.
#
# Status (issue 13): this recipe is NOT yet shown to learn within the budget. A run of it
# stopped (for time, on a heavily loaded machine) after 62 of its 200 iterations: class-
# token teacher entropy / ln K 0.74, 0.61, 0.80 at iterations 20, 40, 60 (loss_cls 5.9,
# 4.7, 5.5; ln K = 6.9: no uniform collapse), but the teacher's class token scored 44.2 %
# k-NN top-1 against 52.6 % at random init (k 20, T 0.07, bank = first 10,000 images of
# train/, queries val/). Full-length runs of this config and of the DINO / iBOT controls
# and the MoCo v3 peer are still to be made.
_base_ = [
    '../_base_/models/pqcl_vit-small-p16.py',
    '../_base_/datasets/imagenet_pqcl.py',
    '../_base_/schedules/pqcl_adamw_coslr-100e.py',
    '../_base_/default_runtime.py',
    '../_base_/datasets/fashion_mnist_knn_monitor.py',
    '../_base_/datasets/fashion_mnist_pretrain.py',
]
max_epochs = 10
images_per_epoch = 64 * 20
warmup_epochs = 1

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=128, num_layers=4, num_heads=4,
                  feedforward_channels=512),
        img_size=32,
        patch_size=4,
        drop_path_rate=0.),
    head=dict(in_channels=128, out_channels=1024, hidden_channels=512,
              bottleneck_channels=128),
    base_momentum=0.02,
    end_momentum=0.)

_jitter = dict(jitter_prob=0.8, brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1,
               gray_prob=0.2, blur_sigma=(0.1, 2.0), flip_prob=0.)
data_preprocessor = dict(
    global_augments=[
        dict(_jitter, blur_prob=1.0, solarize_prob=0.),
        dict(_jitter, blur_prob=0.1, solarize_prob=0.2),
    ],
    query_augment=dict(_jitter, blur_prob=0.5, solarize_prob=0.))

train_dataloader = dict(
    _base_.fashion_mnist_pretrain_loader,
    dataset=dict(
        _base_.fashion_mnist_pretrain_loader.dataset,
        _delete_=True,
        indices=images_per_epoch,
        pipeline=[
            dict(type='CheckedLoadImageFromFile'),
            dict(type='PQCLViews', global_size=32, query_size=16, patch_size=4,
                 min_mask_patches=4),
            dict(type='PackPQCLInputs'),
        ]))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay', eta_min_ratio=10.,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
# Monitors (off in the paper configs): the k-NN monitor of the class token at the end;
# teacher entropy / ln K and logit spread every 20 iterations, with a warning above
# 0.95 ln K.
custom_hooks = [
    dict(type='TargetUpdateHook'),
    dict(type='TeacherTempWarmupHook', start=0.04, end=0.04, warmup_epochs=0),
    dict(type='FreezeLastLayerHook', epochs=1),
    dict(type='PerParamGradClipHook', max_norm=3.0),
    dict(_base_.knn_monitor, interval=max_epochs,
         bank_dataloader=dict(_base_.knn_monitor.bank_dataloader,
                              dataset=dict(_base_.knn_monitor.bank_dataloader.dataset,
                                           indices=10000))),
    dict(type='CollapseMonitorHook', interval=20, max_entropy_ratio=0.95),
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=_base_.fashion_mnist_pretrain_loader.batch_size)
