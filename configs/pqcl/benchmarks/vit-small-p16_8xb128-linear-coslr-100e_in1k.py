# Linear probe of a PQCL ViT-S/16 on ImageNet-1k, on the TEACHER encoder (the
# PQCL / iBOT / DINO evaluation convention): init_cfg prefix 'teacher_backbone.module.'
# reads it from a PQCL pre-training checkpoint (model.backbone.init_cfg.checkpoint=...);
# for a file from tools/model_converters/extract_backbone.py (default encoder:
# teacher) set the prefix to ''. The QueryViT's mask_token is reported unused.
# Protocol (DINO / iBOT eval_linear, ViT-S): frozen encoder, the class tokens of the
# last 4 blocks, each after the final norm, concatenated (LastBlocksClsViT, 4 x 384),
# a linear layer, SGD momentum 0.9 without weight decay, lr 0.001 x batch / 256
# (DINO's default; iBOT sweeps the lr), batch 1024, 100 cosine epochs,
# RandomResizedCrop + flip; val: resize 256, centre crop 224.
# Paper (cite, not reproduced): 69.7 / 73.8 / 74.4 for 100 / 400 / 800 epochs.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32_pil_resize.py',
    'mmpretrain::_base_/default_runtime.py',
]

custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)

train_dataloader = dict(batch_size=128, drop_last=True)
val_dataloader = dict(batch_size=128, drop_last=False)
test_dataloader = val_dataloader

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='LastBlocksClsViT',
        num_blocks=4,
        avgpool=False,
        arch='deit-small',
        img_size=224,
        patch_size=16,
        qkv_bias=True,
        norm_cfg=dict(type='LN', eps=1e-6),
        frozen_stages=12,
        final_norm=True,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='teacher_backbone.module.')),
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=4 * 384,
        loss=dict(type='CrossEntropyLoss'),
        init_cfg=dict(type='Normal', layer='Linear', std=0.01)))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.001 * 1024 / 256, momentum=0.9, weight_decay=0.))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100, eta_min=0.)
]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    logger=dict(type='LoggerHook', interval=50),
    checkpoint_kind=dict(type='CheckpointKindHook'))
auto_scale_lr = dict(base_batch_size=1024)
randomness = dict(seed=0, diff_rank_seed=True)
