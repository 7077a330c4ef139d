# mmpretrain's own MAE (its registry's `MAE`, `MAEViT`, `MAEPretrainDecoder`,
# `MAEPretrainHead`, model base inherited from mmpretrain's config) at small scale: the
# peer of CIM and CAE in the Fashion-MNIST benchmark (issue 13), with the same encoder
# (128-d, 4 blocks, 4 heads, 4 px patches: 8 x 8 grid, qkv bias, LayerNorm eps 1e-6,
# class token; loads as it is into the k-NN benchmark's VisionTransformer), the same
# data (tools/dataset_converters/fashion_mnist.py, 32 px RGB), batch 64, one process on
# CPU and the same budget (about 6 minutes of pre-training on 2 quiet cores, fixed in
# iterations below). MAE's recipe otherwise: 75% random masking, per-patch normalised
# pixel targets, RandomResizedCrop scale (0.2, 1) + flip, AdamW (0.9, 0.95), weight decay
# 0.05 except norms / biases / tokens / position embedding, linear warm-up then cosine.
#
# Departures from the paper recipe, and why:
# - Decoder of 2 blocks, 128-d, 4 heads (paper: 8 blocks, 512-d for ViT-B/L): sized to
#   the 4-block encoder, as CAE's regressor and decoder here.
# - Learning rate 1.5e-3 at batch 64, not the linearly scaled 1.5e-4 x 64 / 256 =
#   3.75e-5 (as for CIM here: the paper's rule gives 2.4e-3 at its batch 4096).
#   Warm-up 1 of 5 epochs (paper: 40 of 300).
# - fp32 (mmpretrain's config: fp16 AMP): CPU training.
# - Budget: 450 iterations = 5 epochs of the first 5,760 pre-training images
#   (train_dataloader.dataset.indices) at batch 64, first aimed at about 360 s from a
#   step time estimated on a loaded machine. On a quiet one: 0.232 s per step, i.e.
#   104 s of training (tools/analysis_tools/published_figures.sh OUT
#   small_scale_vit-t: the harness, 2 threads, side by side). The k-NN monitor
#   (interval 5 epochs) runs once, after the last epoch.
_base_ = [
    'mmpretrain::_base_/models/mae_vit-base-p16.py',
    '../_base_/default_runtime.py',
    '../_base_/datasets/fashion_mnist_knn_monitor.py',
    '../_base_/datasets/fashion_mnist_pretrain.py',
]
images_per_epoch = 5760
max_epochs = 5
warmup_epochs = 1

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=128, num_layers=4, num_heads=4,
                  feedforward_channels=512),
        img_size=32,
        patch_size=4),
    neck=dict(num_patches=64, patch_size=4, embed_dim=128, decoder_embed_dim=128,
              decoder_depth=2, decoder_num_heads=4),
    head=dict(patch_size=4))

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
train_dataloader = dict(
    _base_.fashion_mnist_pretrain_loader,
    dataset=dict(
        _base_.fashion_mnist_pretrain_loader.dataset,
        indices=images_per_epoch,
        pipeline=[
            dict(type='CheckedLoadImageFromFile'),
            dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0),
                 backend='pillow', interpolation='bicubic'),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackInputs'),
        ]))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1.5e-3, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'mask_token': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=0.,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# k-NN monitor of the encoder's class token on whole images (MAE.extract_feat: no
# masking).
custom_hooks = [{{_base_.knn_monitor}}]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=_base_.fashion_mnist_pretrain_loader.batch_size)
