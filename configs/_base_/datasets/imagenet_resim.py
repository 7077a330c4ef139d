# ReSim data: the workers decode and cut two 224 px RandomResizedCrops (scale 0.2-1) of
# each image, both flipped or neither, recording the crop boxes (ReSimViews); the MoCo v2
# colour pipeline (jitter 0.4/0.4/0.4/0.1 p=0.8, grayscale p=0.2, blur sigma 0.1-2
# p=0.5) runs batched on the training device (ReSimDataPreprocessor).
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

data_preprocessor = dict(
    type='ReSimDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
    augment=dict(
        jitter_prob=0.8,
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.1,
        gray_prob=0.2,
        blur_prob=0.5,
        blur_sigma=(0.1, 2.0),
        solarize_prob=0.0,
        flip_prob=0.0))

train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(type='ReSimViews', size=224, scale=(0.2, 1.0), flip_prob=0.5),
    dict(type='PackInputs', algorithm_keys=['crop_boxes']),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    drop_last=True,  # the queue length must be a multiple of every global batch
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
