# ReSim-FPN (paper): as ReSim-C4, plus an FPN top-down path over C3-C5 (1x1 laterals to
# 256 channels, nearest 2x upsampling + add, 3x3 output convs) and region similarity on
# P4 (48 px windows, stride 32, pooled at 1/16) and P3 (32 px windows, stride 24, pooled
# at 1/8), one loss term per level. The reference code skips the projection and pools
# the raw 256-channel FPN outputs (region_head.projection=False) and dense negatives
# (negatives='dense'): configs/resim/resim-fpn_r50_200e_in1k_reference-variant.py.
_base_ = ['./resim_c4_r50.py']

model = dict(
    backbone=dict(out_indices=(1, 2, 3)),  # C3, C4, C5
    region_neck=dict(
        type='ReSimFPN', in_channels=(512, 1024, 2048), out_channels=256,
        out_indices=(0, 1)),
    region_head=dict(
        in_channels=(256, 256),
        strides=(8, 16),
        windows=(32, 48),
        window_strides=(24, 32),
        level_names=('p3', 'p4')))

# The momentum target moves once after every optimizer step (the model's update_target).
custom_hooks = [dict(type='TargetUpdateHook')]
