# CAE data with RGB pixel targets (paper Table 8; no tokenizer, no external weights):
# RandomResizedCrop (scale (0.08, 1)) to 224 px (bicubic), horizontal flip and a
# block-wise mask of exactly 98 of the 14 x 14 patches. The targets are the masked
# patches of the normalised input, each patch normalised to zero mean / unit variance.
_base_ = './imagenet_cae.py'

data_preprocessor = dict(
    _delete_=True,
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='CheckedLoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.08, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=14,
        num_masking_patches=98,
        min_num_patches=16),
    dict(type='PackInputs'),
]

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
