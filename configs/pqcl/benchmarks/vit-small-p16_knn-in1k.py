# Weighted k-NN evaluation (DINO / iBOT protocol) of a PQCL ViT-S/16 TEACHER encoder:
# class token after the final norm, L2-normalised, k in (10, 20, 100, 200),
# temperature 0.07, train set as memory, val set queried; resize 256 + centre crop 224.
#   python tools/analysis_tools/knn_eval.py THIS_CONFIG --checkpoint PQCL_CKPT
# The prefix 'teacher_backbone.module.' reads the teacher from a PQCL pre-training
# checkpoint; for a file from extract_backbone.py (keys without prefix) pass
# --cfg-options model.init_cfg.prefix=None (prefix='' matches no key and fails).
custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)
default_scope = 'mmpretrain'

model = dict(
    type='VisionTransformer',
    arch='deit-small',
    img_size=224,
    patch_size=16,
    qkv_bias=True,
    norm_cfg=dict(type='LN', eps=1e-6),
    final_norm=True,
    out_type='cls_token',
    init_cfg=dict(type='Pretrained', checkpoint='', prefix='teacher_backbone.module.'))

data_preprocessor = dict(
    type='ClsDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ImageNet', data_root='data/imagenet', split='train',
                 pipeline=test_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ImageNet', data_root='data/imagenet', split='val',
                 pipeline=test_pipeline))
knn = dict(k=(10, 20, 100, 200), temperature=0.07)
