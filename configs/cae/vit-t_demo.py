# CAE on the demo image folder (tools/dataset_converters/make_demo_data.py), small
# enough for 2 CPU cores: a 4-block, 96-d encoder on 64 px images with 8 px patches
# (8 x 8 grid, exactly 32 patches masked), 2 regressor and 2 decoder blocks, RGB pixel
# targets (no tokenizer download). Same algorithm, masking and losses as the ImageNet
# recipes.
_base_ = [
    '../_base_/models/cae_vit-base-p16.py',
    '../_base_/datasets/imagenet_cae_pixel.py',
    '../_base_/schedules/cae_adamw_coslr.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=96, num_layers=4, num_heads=3,
                  feedforward_channels=384),
        img_size=64,
        patch_size=8),
    neck=dict(num_patches_side=8, embed_dims=96, num_heads=3, out_channels=8 * 8 * 3,
              regressor_depth=2, decoder_depth=2),
    head=dict(target='pixels'),
    target_generator=None)

train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.35, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='BlockwiseMaskGenerator', input_size=8, num_masking_patches=32,
         min_num_patches=4),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=2,
    persistent_workers=False,
    pin_memory=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='data/demo/imagenet',
        data_prefix='train',
        with_label=False,
        pipeline=train_pipeline))

# fp32 on the CPU (tools/train.py --amp switches to bf16 autocast).
optim_wrapper = dict(type='OptimWrapper', _delete_=True,
                     optimizer=dict(type='AdamW', lr=1.5e-3, betas=(0.9, 0.999),
                                    weight_decay=0.05),
                     clip_grad=dict(max_norm=3.0),
                     paramwise_cfg=dict(
                         norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0,
                         custom_keys={'pos_embed': dict(decay_mult=0.0),
                                      'cls_token': dict(decay_mult=0.0),
                                      'mask_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=2,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=58, eta_min=1e-5, by_epoch=True, begin=2,
         end=60, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60)
default_hooks = dict(
    logger=dict(interval=5),
    checkpoint=dict(interval=20, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=16)
