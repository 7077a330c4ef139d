# ReSim-FPN (paper): as ReSim-C4, plus an FPN top-down path over C3-C5 (1x1 laterals to
# 256 channels, nearest 2x upsampling + add, 3x3 output convs) and region similarity on
# P4 (48 px windows, stride 32, pooled at 1/16: 6 x 6) and P3 (32 px windows, stride 24,
# pooled at 1/8: 8 x 8, the reference's grid, which leaves out the windows ending on the
# view's edge; region_head.edge_windows=True gives 9 x 9), one loss term per level.
# Negatives: P4's from all GPUs, P3's from this GPU only (paper appendix A.1: "for P3,
# we use the pooled features on each individual GPU"; gather=True on P3 takes them from
# all GPUs). The reference code skips the projection and pools the raw 256-channel FPN
# outputs (region_head.projection=False) and uses dense negatives (negatives='dense'):
# configs/resim/resim-fpn_r50_200e_in1k_reference-variant.py.
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
        level_names=('p3', 'p4'),
        loss=[
            dict(type='RegionInfoNCELoss', temperature=0.2, loss_weight=1.0, gather=False),
            dict(type='RegionInfoNCELoss', temperature=0.2, loss_weight=1.0, gather=True),
        ]))

# The momentum target moves once after every optimizer step (the model's update_target).
custom_hooks = [dict(type='TargetUpdateHook')]
