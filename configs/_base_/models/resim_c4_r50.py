# ReSim-C4 (paper): ResNet-50 query encoder + momentum key encoder (0.999, i.e. EMA weight
# 0.001 of the new parameters), MoCo v2 global branch (2048 -> 2048 -> 128 MLP on pooled
# C5, queue 65,536, temperature 0.2, shuffle BN) and region similarity on C4: 48 px
# windows at stride 32 over 224 px views (6 x 6), pooled with Precise RoI Pooling at 1/16
# after the paper's projection (two 3x3 convs to 128 channels, BN + ReLU after the first),
# negatives from all GPUs (paper appendix A.1: synchronised on C4/P4).
# L = L_region + lambda * L_global with lambda = 1 (head.loss.loss_weight).
model = dict(
    type='ReSim',
    queue_len=65536,
    feat_dim=128,
    base_momentum=0.001,
    end_momentum=0.001,
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(2, 3),  # C4 for the regions, C5 for the global branch
        norm_cfg=dict(type='BN'),
        zero_init_residual=False),
    neck=dict(
        type='MoCoV2Neck',
        in_channels=2048,
        hid_channels=2048,
        out_channels=128,
        with_avg_pool=True),
    head=dict(
        type='ContrastiveHead',
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        temperature=0.2),
    region_head=dict(
        type='ReSimRegionHead',
        in_channels=(1024, ),
        strides=(16, ),
        windows=(48, ),
        window_strides=(32, ),
        level_names=('c4', ),
        view_size=224,
        projection=True,
        proj_channels=128,
        loss=dict(type='RegionInfoNCELoss', temperature=0.2, loss_weight=1.0)))

# The momentum target moves once after every optimizer step (the model's update_target).
custom_hooks = [dict(type='TargetUpdateHook')]
