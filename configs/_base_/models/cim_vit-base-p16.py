# CIM with a ViT-B/16 online encoder (exemplars) and its EMA target (context).
# Reference defaults: frozen random patch embedding, fixed 2-D sin-cos position
# embedding (14x14, resized to the 10x10 context and 4x4 exemplar grids with the
# reference's bicubic scale_factor (n + 0.1) / 14: CIMViT pos_resize='scale_factor'), one
# cross-attention decoder block of width 512 with 16 heads, target momentum
# tau 0.99 -> 1 (mmengine convention: base_momentum = 1 - tau = 0.01).
model = dict(
    type='CIM',
    backbone=dict(
        type='CIMViT',
        arch='base',
        img_size=224,
        patch_size=16,
        stop_grad_conv1=True,
        out_type='raw'),
    neck=dict(
        type='CIMNeck',
        in_channels=768,
        embed_dims=512,
        num_heads=16,
        depth=1,
        mlp_ratio=4.),
    head=dict(type='CIMHead', loss_weight=1.0),
    base_momentum=0.01,
    end_momentum=0.0)

# The momentum target moves once after every optimizer step (the model's update_target).
custom_hooks = [dict(type='TargetUpdateHook')]
