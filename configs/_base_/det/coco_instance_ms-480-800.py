# COCO instance segmentation with the CAE paper's multi-scale training: short side
# chosen from 480-800 (step 32), long side <= 1333, horizontal flip; single-scale test
# at (1333, 800). 8 GPUs x 4 images = batch 32 (CAE paper).
_base_ = ['mmdet::_base_/datasets/coco_instance.py']

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize',
         scales=[(1333, short) for short in range(480, 801, 32)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
