# COCO instance segmentation, MoCo / ReSim protocol: short side chosen from 640-800
# (step 32), long side <= 1333, horizontal flip; test at (1333, 800). 8 GPUs x 2.
_base_ = ['mmdet::_base_/datasets/coco_instance.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize',
         scales=[(1333, short) for short in range(640, 801, 32)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
