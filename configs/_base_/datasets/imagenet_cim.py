# CIM data: the workers decode, RandomResizedCrop(224, scale (0.5, 1), bicubic) and flip
# the base image; CIMDataPreprocessor samples the context (160 px), 6 rotated 64 px
# exemplars, their exact correlation maps and the exemplar-only augmentations batched on
# the training device (sample_on_device=True). Exemplar regions as the reference: a box
# of scale (0.05, 0.48) / ratio (1/3, 3), rotated, cropped as its trimmed bounding box
# (map area 0.32 of the context on average), resampled antialiased (PIL's bicubic);
# angles are continuous in [-45, 45) (reference: integer degrees). For the pure-CPU path use
# SampleCIMExemplars + PackCIMInputs in the pipeline and sample_on_device=False.
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

data_preprocessor = dict(
    type='CIMDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
    sample_on_device=True,
    sampler=dict(
        base_size=224,
        context_size=160,
        exemplar_size=64,
        num_exemplars=6,
        scale_range=(0.05, 0.48),
        ratio_range=(1 / 3, 3.),
        rotation_range=(-45., 45.)),
    exemplar_augment=dict(
        jitter_prob=0.8,
        brightness=0.4,
        contrast=0.4,
        saturation=0.2,
        hue=0.1,
        gray_prob=0.2,
        blur_prob=0.5,
        blur_sigma=(0.1, 2.0),
        solarize_prob=0.2,
        flip_prob=0.5))

train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.5, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
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
