# MoCo v3 (mmpretrain's own `MoCoV3` and `MoCoV3ViT` from its registry, mmpretrain's
# configs/mocov3/mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py scaled down): the
# peer of the small-scale PQCL (configs/pqcl/vit-t_small-scale_fmnist.py), on the same
# encoder (128-d, 4 blocks, 4 heads, 4 px patches, 32 px images, fixed sin-cos
# positions, qkv bias, LN eps 1e-6), the same Fashion-MNIST images and the same
# wall-clock budget (about 6 minutes on 2 CPU cores, expressed in iterations below).
#
# Departures from mmpretrain's recipe, and why:
# - 32 px views: RandomResizedCrop scale (0.25, 1) instead of (0.08, 1): the same crops
#   as PQCL's global views (an 8 % crop of a 32 px image is 9 x 9 pixels).
# - Projector / predictor hidden width 512 (recipe: 4096) for the 128-d encoder.
# - The optimisation of the PQCL small-scale run (AdamW lr 1e-3 at batch 64, linear
#   warm-up over the first tenth, cosine to 1e-6), weight decay 0.1 as MoCo v3: the
#   linear scaling of MoCo v3's lr (2.4e-3 per 4096 images) gives 3.75e-5 at batch 64,
#   far too little for a few hundred iterations; both methods get the same lr.
# - Momentum encoder: mmpretrain's recipe (0.99 -> 1, cosine) kept.
# - max_epochs x indices / batch = the iterations that fit the budget: MoCo v3's step
#   (2 views through the online and the momentum encoder, class token only: ~26 GMAC
#   at batch 64 against PQCL's ~42) buys 320 iterations for PQCL's 200 (an estimate
#   from the multiply-adds). Measured on a quiet machine (tools/analysis_tools/
#   benchmark.py, 2 threads, side by side): 0.727 s per step against PQCL's 1.052 s,
#   i.e. 233 s of training against PQCL's 210 s.
#
# - Colour jitter without hue (mmpretrain's recipe: hue 0.1): mmcv 2.1's adjust_hue
#   fails under numpy 2 ("OverflowError: Python integer -5 out of bounds for uint8" in
#   the data workers), and Fashion-MNIST images are gray (R = G = B), on which hue and
#   saturation jitter change nothing anyway.
_base_ = [
    '../_base_/default_runtime.py',
    '../_base_/datasets/fashion_mnist_knn_monitor.py',
    '../_base_/datasets/fashion_mnist_pretrain.py',
]
max_epochs = 10
images_per_epoch = 64 * 32
warmup_epochs = 1
temperature = 0.2

model = dict(
    type='MoCoV3',
    base_momentum=0.01,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='MoCoV3ViT',
        arch=dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512),
        img_size=32,
        patch_size=4,
        qkv_bias=True,
        norm_cfg=dict(type='LN', eps=1e-6),
        stop_grad_conv1=True),
    neck=dict(
        type='NonLinearNeck',
        in_channels=128,
        hid_channels=512,
        out_channels=256,
        num_layers=3,
        with_bias=False,
        with_last_bn=True,
        with_last_bn_affine=False,
        with_last_bias=False,
        with_avg_pool=False,
        norm_cfg=dict(type='BN1d')),
    head=dict(
        type='MoCoV3Head',
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=512,
            out_channels=256,
            num_layers=2,
            with_bias=False,
            with_last_bn=True,
            with_last_bn_affine=False,
            with_last_bias=False,
            with_avg_pool=False,
            norm_cfg=dict(type='BN1d')),
        loss=dict(type='CrossEntropyLoss', loss_weight=2 * temperature),
        temperature=temperature))


def _view(blur_prob, solarize_prob):
    return [
        dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.25, 1.),
             backend='pillow'),
        dict(type='RandomApply', prob=0.8, transforms=[
            dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2)]),
        dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
             channel_weights=(0.114, 0.587, 0.2989)),
        dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf',
             prob=blur_prob),
        dict(type='Solarize', thr=128, prob=solarize_prob),
        dict(type='RandomFlip', prob=0.5),
    ]


train_dataloader = dict(
    _base_.fashion_mnist_pretrain_loader,
    dataset=dict(
        _base_.fashion_mnist_pretrain_loader.dataset,
        indices=images_per_epoch,
        pipeline=[
            dict(type='CheckedLoadImageFromFile'),
            dict(type='MultiView', num_views=[1, 1],
                 transforms=[_view(1.0, 0.), _view(0.1, 0.2)]),
            dict(type='PackInputs'),
        ]))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.1))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# k-NN monitor of the class token at the end of the run (MoCoV3 has no distillation
# teacher: no collapse monitor).
custom_hooks = [
    dict(_base_.knn_monitor, interval=max_epochs,
         bank_dataloader=dict(_base_.knn_monitor.bank_dataloader,
                              dataset=dict(_base_.knn_monitor.bank_dataloader.dataset,
                                           indices=10000))),
]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=_base_.fashion_mnist_pretrain_loader.batch_size)
