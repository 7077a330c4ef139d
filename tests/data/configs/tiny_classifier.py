# A stock mmpretrain classification config whose only addition is custom_imports (what a
# user of the plugin writes): a 2-stage ResNet-18 on 32 px images of an annotated image
# folder (set train_dataloader.dataset.data_root and test_dataloader.dataset.data_root).
_base_ = ['mmpretrain::_base_/default_runtime.py']
custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, num_stages=2, strides=(1, 2), dilations=(1, 1),
                  out_indices=(1, )),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=128,
              loss=dict(type='CrossEntropyLoss')))
data_preprocessor = dict(num_classes=10, mean=[123.675, 116.28, 103.53],
                         std=[58.395, 57.12, 57.375], to_rgb=True)
dataset = dict(type='CustomDataset', data_root='data/demo/imagenet', ann_file='meta/train.txt',
               data_prefix='train',
               pipeline=[dict(type='LoadImageFromFile'), dict(type='ResizeEdge', scale=40),
                         dict(type='CenterCrop', crop_size=32), dict(type='PackInputs')])
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False, dataset=dataset,
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        collate_fn=dict(type='default_collate'))
test_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False, dataset=dataset,
                       sampler=dict(type='DefaultSampler', shuffle=False),
                       collate_fn=dict(type='default_collate'))
test_evaluator = dict(type='Accuracy', topk=(1, ))
test_cfg = dict()
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=2, milestones=[1],
                        gamma=0.1)]
train_cfg = dict(by_epoch=True, max_epochs=1)
default_hooks = dict(logger=dict(interval=1))
