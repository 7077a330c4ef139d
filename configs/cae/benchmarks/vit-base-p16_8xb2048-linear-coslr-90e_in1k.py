# Linear probing of a CAE ViT-B/16 encoder on ImageNet-1k (paper Sec. 5 / reference
# run_linear.py): frozen encoder, class token after the final norm, BatchNorm without
# affine parameters before the linear classifier, LARS lr 6.4 at batch 16384 (8 GPUs x
# 2048), no weight decay, 10 warm-up + 80 cosine epochs, MAE's linear-probe augmentation.
# The encoder is mmpretrain's BEiTViT, which loads the CAE encoder's weights as they
# are: model.backbone.init_cfg.checkpoint=<CAE pre-training checkpoint> (prefix
# 'backbone.'), or a file from tools/model_converters/extract_backbone.py with
# prefix=None (keys without prefix; prefix='' matches no key and fails).
_base_ = ['mmpretrain::mae/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_in1k.py']

custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)

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
        out_type='cls_token',
        norm_cfg=dict(type='LN', eps=1e-6),
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))

default_hooks = dict(checkpoint_kind=dict(type='CheckpointKindHook'))
auto_scale_lr = dict(base_batch_size=16384)
