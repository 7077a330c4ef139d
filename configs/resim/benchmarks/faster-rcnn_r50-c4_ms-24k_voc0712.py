# PASCAL VOC Faster R-CNN R50-C4 of a ReSim ResNet-50 (paper Sec. 4.1 / Table 4, MoCo
# protocol; ReSim-C4 58.7 AP): trainval07+12, short side 480-800 (step 32) / 1333, test
# at 800, batch 16 (8 GPUs x 2), SGD lr 0.02, 24k iterations, lr / 10 at 18k and 22k,
# SyncBN everywhere; COCO-style AP over IoU 0.5:0.95 (and AP50) on test2007.
#   model.backbone.init_cfg.checkpoint=<ReSim checkpoint>
#   model.roi_head.shared_head.init_cfg.checkpoint=<the same file>
_base_ = [
    '../../_base_/det/faster-rcnn_r50-c4_syncbn.py',
    'mmdet::_base_/datasets/voc0712.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    '../../_base_/det/default_runtime.py',
]

model = dict(roi_head=dict(bbox_head=dict(num_classes=20)))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize',
         scales=[(1333, short) for short in range(480, 801, 32)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
voc_trainval = [
    dict(type='VOCDataset', data_root={{_base_.data_root}},
         ann_file=f'VOC{year}/ImageSets/Main/trainval.txt',
         data_prefix=dict(sub_data_root=f'VOC{year}/'),
         filter_cfg=dict(filter_empty_gt=True, min_size=32, bbox_min_size=32),
         pipeline=train_pipeline) for year in (2007, 2012)
]
train_dataloader = dict(
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(_delete_=True, type='ConcatDataset', ignore_keys=['dataset_type'],
                 datasets=voc_trainval))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='VOCMetric', metric='mAP', eval_mode='area',
                     iou_thrs=[round(0.5 + 0.05 * i, 2) for i in range(10)])
test_evaluator = val_evaluator

train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=24000,
                 val_interval=2000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=24000, by_epoch=False,
         milestones=[18000, 22000], gamma=0.1),
]
log_processor = dict(by_epoch=False)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=2000, max_keep_ckpts=3))
