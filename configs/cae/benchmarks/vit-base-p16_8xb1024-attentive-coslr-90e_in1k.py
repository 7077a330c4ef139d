# Attentive probing of a CAE ViT-B/16 encoder on ImageNet-1k (paper Sec. 5): the frozen
# encoder's patch tokens are pooled by a cross-attention unit with its own learned
# class token (no MLP, no skip connection), BatchNorm(affine=False), linear classifier.
# SGD momentum 0.9, lr 0.4 at batch 8192 (8 GPUs x 1024), no weight decay, 10 warm-up
# epochs, 90 epochs, no mixup / cutmix / drop path / colour jitter. Augmentation: our
# choice, MAE's linear-probe pipeline (RandomResizedCrop + flip).
# model.backbone.init_cfg.checkpoint=<CAE pre-training checkpoint> (prefix 'backbone.').
_base_ = ['mmpretrain::mae/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_in1k.py']

custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)

train_dataloader = dict(batch_size=1024)

model = dict(
    backbone=dict(
        _delete_=True,
        type='BEiTViT',
        arch='base',
        img_size=224,
        patch_size=16,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=True,
        use_rel_pos_bias=False,
        frozen_stages=12,
        final_norm=True,
        out_type='raw',
        norm_cfg=dict(type='LN', eps=1e-6),
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(_delete_=True, type='AttentiveProbeNeck', in_channels=768, num_heads=12),
    head=dict(_delete_=True, type='LinearClsHead', num_classes=1000, in_channels=768,
              loss=dict(type='CrossEntropyLoss'),
              init_cfg=[dict(type='TruncNormal', layer='Linear', std=0.01)]))

optim_wrapper = dict(
    _delete_=True,
    type='AmpOptimWrapper',
    optimizer=dict(type='SGD', lr=0.4, momentum=0.9, weight_decay=0.0))

default_hooks = dict(checkpoint_kind=dict(type='CheckpointKindHook'))
auto_scale_lr = dict(base_batch_size=8192)
