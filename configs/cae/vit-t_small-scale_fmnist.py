# CAE at small scale: Fashion-MNIST (tools/dataset_converters/fashion_mnist.py, 32 px
# RGB; `make fashion-mnist`) with the small-scale ViT-T encoder (128-d, 4 blocks, 4
# heads, 4 px patches: an 8 x 8 grid; BEiT-style q/v bias and LayerScale 0.1 as the
# paper), batch 64, one process on CPU, the training compute of the MAE peer (budget
# below). Same algorithm and losses as the ImageNet recipes: the encoder sees the
# visible patches only, the latent regressor predicts the masked ones, alignment loss
# against the same live encoder on the masked patches, block-wise mask of exactly half
# the patches.
# Its peer, mmpretrain's own MAE on the same encoder, data and budget:
# mae_vit-t_small-scale_fmnist.py.
#
# Departures from the paper recipe, and why:
# - RGB pixel targets (per-patch normalised, MSE; the paper's Table 8 alternative), not
#   DALL-E tokens: the DALL-E tokenizer's weights are a download this benchmark cannot
#   make offline, and a tokenizer trained for 112 px photographs would see 16 px
#   upscaled Fashion-MNIST images. Pixel targets also match the MAE peer's.
# - Alignment weight lambda 0.2 (paper: 2). The paper balances the alignment MSE
#   against a cross-entropy over 8,192 tokens (ln 8192 = 9 at the start); the
#   per-patch-normalised pixel MSE here starts at 1 and settles near 0.6, so lambda 2
#   makes the alignment term, which can be lowered by making the encoder's outputs
#   alike, outweigh the reconstruction. Measured at this budget (k-NN monitor: bank
#   the first 10,000 train/ images, all val/ queries): lambda 2 63.8, 0.2 70.9,
#   0 70.1 (the benchmark's random ViT-T: 55.4); lambda 2 with random 75% masking
#   instead of blocks: 62.3. Re-checked at 294 iterations on a monitor that never
#   touches the test split (bank train/ images 0-4,999, queries train/ images
#   50,000-52,999): lambda 2 62.6, 0.2 71.5, 0 71.5; lambda 2 is what hurts, 0.2 and 0
#   are level.
# - Mask: 32 of the 8 x 8 patches (the paper's 50%), blocks of >= 4 patches (paper:
#   16 of 196, the same ~8% of the grid).
# - Regressor and decoder of 2 blocks each (paper: 4 and 4 for 12 encoder blocks): at
#   4 encoder blocks a 4 + 4 block neck would be twice the encoder and eat the budget.
# - No stochastic depth (paper 0.1): a regulariser for long runs of 12+ blocks; a
#   4-block encoder trained for a few hundred steps underfits, and the MAE peer has
#   none either.
# - Learning rate 1.5e-3 (the paper's value at batch 2048) kept at batch 64 instead of
#   scaled linearly to 4.7e-5, which would barely move the weights in a few hundred
#   steps. Warm-up 1 of 6 epochs (paper: 10 of 300).
# - fp32 (paper: fp16 AMP): CPU training; `tools/train.py --amp` gives bf16 autocast.
# - Budget: 294 iterations = 6 epochs of the first 3,136 pre-training images
#   (train_dataloader.dataset.indices) at batch 64, the training compute of the MAE
#   peer: 294 x 0.351 s = 103 s against its 450 x 0.232 s = 104 s (step times on 2
#   quiet threads: tools/analysis_tools/benchmark.py --device cpu --repeats 2, the two
#   configs side by side, undisturbed). The k-NN monitor runs once, after the last
#   epoch.
# Against its peer: at equal compute CAE trails MAE (seed means 71.76 vs 74.25,
# model_zoo.md), but not per step. MAE run for CAE's 294 iterations (6 epochs of 3,136
# images) scores 68.59 / 71.63 k-NN (seeds 1 / 2; test split, the benchmark's scoring)
# against CAE's 70.60 / 71.31. A CAE step costs 1.5x an MAE step: its encoder sees half
# the patches instead of a quarter, plus the alignment pass over the masked half and
# the regressor. Tried at 294 iterations (seed 1, CAE 70.60): random 75% masking
# (SimMIMMaskGenerator, MAE's ratio; the paper found 60% better than 50% for
# probing) 70.00, seed 2 71.61; AdamW betas (0.9, 0.95) as MAE 69.65; no LayerScale
# (layer_scale_init_value=0, scored with a matching encoder) 65.45.
_base_ = [
    '../_base_/models/cae_vit-base-p16.py',
    '../_base_/datasets/imagenet_cae_pixel.py',
    '../_base_/schedules/cae_adamw_coslr.py',
    '../_base_/default_runtime.py',
    '../_base_/datasets/fashion_mnist_knn_monitor.py',
    '../_base_/datasets/fashion_mnist_pretrain.py',
]
images_per_epoch = 3136
max_epochs = 6
warmup_epochs = 1

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=128, num_layers=4, num_heads=4,
                  feedforward_channels=512),
        img_size=32,
        patch_size=4,
        drop_path_rate=0.),
    neck=dict(num_patches_side=8, embed_dims=128, num_heads=4, out_channels=4 * 4 * 3,
              regressor_depth=2, decoder_depth=2, drop_path_rate=0.),
    head=dict(target='pixels', align_weight=0.2),
    target_generator=None)

train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.08, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockwiseMaskGenerator', input_size=8, num_masking_patches=32,
         min_num_patches=4),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    _base_.fashion_mnist_pretrain_loader,
    dataset=dict(
        _base_.fashion_mnist_pretrain_loader.dataset,
        _delete_=True,
        indices=images_per_epoch,
        pipeline=train_pipeline))

optim_wrapper = dict(type='OptimWrapper', _delete_=True,
                     optimizer=dict(type='AdamW', lr=1.5e-3, betas=(0.9, 0.999),
                                    weight_decay=0.05),
                     clip_grad=dict(max_norm=3.0),
                     paramwise_cfg={{_base_.optim_wrapper.paramwise_cfg}})
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-5,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
# k-NN monitor of the encoder's class token on whole images.
custom_hooks = [dict(_base_.knn_monitor, interval=max_epochs)]
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=_base_.fashion_mnist_pretrain_loader.batch_size)
