# ImageNet-1k fine-tuning of a CAE ViT-B/16 encoder, BEiT protocol (paper Sec. 5.2):
# 100 epochs, AdamW lr 8e-3 at batch 1024 (8 GPUs x 128), layer decay 0.65, drop path
# 0.1, relative position bias (new, per block), mean pooling, RandAugment, mixup /
# cutmix, label smoothing, random erasing: mmpretrain's CAE fine-tuning config with the
# ImageNet normalisation our pre-training uses (mmpretrain's port normalises with
# 127.5). model.backbone.init_cfg.checkpoint=<CAE pre-training checkpoint>.
_base_ = ['mmpretrain::cae/benchmarks/beit-base-p16_8xb128-coslr-100e_in1k.py']

custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)

data_preprocessor = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
bgr_mean = [103.53, 116.28, 123.675]
bgr_std = [57.375, 57.12, 58.395]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandAugment', policies='timm_increasing', num_policies=2, total_level=10,
         magnitude_level=9, magnitude_std=0.5,
         hparams=dict(pad_val=[round(x) for x in bgr_mean], interpolation='bicubic')),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand', min_area_ratio=0.02,
         max_area_ratio=1 / 3, fill_color=bgr_mean, fill_std=bgr_std),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

model = dict(backbone=dict(norm_cfg=dict(type='LN', eps=1e-6)))

default_hooks = dict(checkpoint_kind=dict(type='CheckpointKindHook'))
