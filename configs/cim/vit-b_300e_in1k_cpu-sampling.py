# CIM ViT-B/16 with the pretext task sampled in the data workers (pure-CPU path):
# SampleCIMExemplars + PackCIMInputs in the pipeline, CIMDataPreprocessor only
# normalises. Same geometry and augmentation code as the default device path; use it
# when the training device has no spare capacity, at several times the worker CPU cost.
_base_ = ['./vit-b_300e_in1k.py']

data_preprocessor = dict(_delete_=True, type='CIMDataPreprocessor', sample_on_device=False)

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='CheckedLoadImageFromFile'),
        dict(
            type='RandomResizedCrop',
            scale=224,
            crop_ratio_range=(0.5, 1.0),
            backend='pillow',
            interpolation='bicubic'),
        dict(type='RandomFlip', prob=0.5),
        dict(
            type='SampleCIMExemplars',
            base_size=224,
            context_size=160,
            exemplar_size=64,
            num_exemplars=6,
            scale_range=(0.05, 0.48),
            ratio_range=(1 / 3, 3.),
            rotation_range=(-45., 45.)),
        dict(type='PackCIMInputs'),
    ]))
