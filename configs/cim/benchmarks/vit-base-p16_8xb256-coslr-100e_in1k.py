# ImageNet-1k fine-tuning of a CIM ViT-B/16 (reference recipe, MAE protocol):
# 100 epochs, 8 GPUs x 256, base lr 1.2e-3 per 256 images, layer decay 0.8, drop path
# 0.1, RandAug m9, mixup 0.8 / cutmix 1.0, label smoothing 0.1, random erasing 0.25.
# Transfers the ONLINE encoder (the reference fine-tunes the exemplar encoder):
#   model.backbone.init_cfg.checkpoint=<CIM pre-training checkpoint>  (prefix 'backbone.')
_base_ = ['mmpretrain::mae/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py']

custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)

train_dataloader = dict(batch_size=256)
val_dataloader = dict(batch_size=256)
test_dataloader = val_dataloader

model = dict(
    backbone=dict(
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))

optim_wrapper = dict(
    optimizer=dict(lr=1.2e-3 * 2048 / 256, weight_decay=0.05, betas=(0.9, 0.999)),
    paramwise_cfg=dict(layer_decay_rate=0.8))

default_hooks = dict(checkpoint_kind=dict(type='CheckpointKindHook'))
auto_scale_lr = dict(base_batch_size=2048)
