# CAE data with DALL-E token targets (reference): horizontal flip, one
# RandomResizedCrop (scale (0.08, 1)) resized to 224 px (bicubic) for the encoder and to
# 112 px (Lanczos) for the tokenizer, no colour jitter, and a block-wise mask of exactly
# 98 of the 14 x 14 patches (blocks of >= 16 patches). The tokenizer image is mapped to
# [0.1, 0.9] (DALL-E's map_pixels) by the second normalisation.
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

data_preprocessor = dict(
    type='TwoNormDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    second_mean=[-31.875, -31.875, -31.875],
    second_std=[318.75, 318.75, 318.75],
    to_rgb=True)

train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomResizedCropAndInterpolationWithTwoPic',
        size=224,
        second_size=112,
        interpolation='bicubic',
        second_interpolation='lanczos',
        scale=(0.08, 1.0)),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=14,
        num_masking_patches=98,
        min_num_patches=16),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=256,
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
