# PQCL on iBOT with a ViT-S/16 student (QueryViT: mmpretrain ViT + query stream;
# mmpretrain's 'deit-small' arch = ViT-S/16 of DINO / iBOT: 384-d, 12 layers, 6 heads),
# fixed 2-D sin-cos position table (resized for the teacher's 96 px query crops as the
# reference: bicubic scale_factor 6.1 / 14, pos_resize='scale_factor'), LN eps 1e-6,
# drop path 0.1 (teacher: none, eval mode). One DINO / iBOT head (384 -> 2048 -> 2048
# -> 256, L2, weight-normed 8192 prototypes, norm_last_layer False) shared by class,
# patch and query tokens (paper Table 7). Teacher EMA 0.996 -> 1 per iteration
# (mmengine convention: the weight of the NEW parameters, base_momentum = 1 - 0.996).
# Loss = L_cls + L_mim + 1 * L_query.
model = dict(
    type='PQCL',
    backbone=dict(
        type='QueryViT',
        arch='deit-small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        qkv_bias=True,
        norm_cfg=dict(type='LN', eps=1e-6),
        out_type='cls_token'),
    head=dict(
        type='IBOTProjectionHead',
        in_channels=384,
        out_channels=8192,
        hidden_channels=2048,
        bottleneck_channels=256,
        norm_last_layer=False),
    use_mim=True,
    query_loss_weight=1.0,
    student_temp=0.1,
    teacher_temp=0.04,
    center_momentum=0.9,
    base_momentum=0.004,
    end_momentum=0.0)

# The recipe's hooks: teacher EMA after every optimizer step, teacher temperature
# 0.04 -> 0.07 over 30 epochs, last layer frozen in epoch 0, per-parameter gradient
# clipping at 3.0 (iBOT).
custom_hooks = [
    dict(type='TargetUpdateHook'),
    dict(type='TeacherTempWarmupHook', start=0.04, end=0.07, warmup_epochs=30),
    dict(type='FreezeLastLayerHook', epochs=1),
    dict(type='PerParamGradClipHook', max_norm=3.0),
]
