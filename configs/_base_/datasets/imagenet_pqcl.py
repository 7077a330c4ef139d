# PQCL data: the workers decode and cut 2 global views (RandomResizedCrop 224, scale
# (0.25, 1), bicubic, flip p=0.5) and 1 query crop (96 px, scale (0.05, 0.25), no flip)
# with their geometry (PQCLViews: relative positions of the 6 x 6 query patches in
# each global view's 14 x 14 grid, flip-aware) and iBOT block masks (each view masked
# with p=0.5, ratio U(0.1, 0.5)). PQCLDataPreprocessor runs the colour pipelines
# batched on the device: BYOL's asymmetric global pipelines (jitter 0.4/0.4/0.2/0.1
# p=0.8, grayscale p=0.2; view 1 blur p=1.0; view 2 blur p=0.1, solarize p=0.2) and
# the query pipeline (jitter p=0.8, grayscale p=0.2, blur p=0.5).
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

_jitter = dict(jitter_prob=0.8, brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1,
               gray_prob=0.2, blur_sigma=(0.1, 2.0), flip_prob=0.)
data_preprocessor = dict(
    type='PQCLDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
    global_augments=[
        dict(_jitter, blur_prob=1.0, solarize_prob=0.),
        dict(_jitter, blur_prob=0.1, solarize_prob=0.2),
    ],
    query_augment=dict(_jitter, blur_prob=0.5, solarize_prob=0.))

train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(
        type='PQCLViews',
        global_size=224,
        query_size=96,
        patch_size=16,
        num_global_views=2,
        num_queries=1,
        global_scale=(0.25, 1.0),
        query_scale=(0.05, 0.25),
        flip_prob=0.5,
        mask_prob=0.5,
        mask_ratio=(0.1, 0.5),
        min_mask_patches=None,  # iBOT's (14 // 3) ** 2 = 16-patch smallest block
        interpolation='bicubic',
        backend='pillow'),
    dict(type='PackPQCLInputs'),
]

train_dataloader = dict(
    batch_size=128,
    num_workers=10,
    persistent_workers=True,
    pin_memory=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
