# ReSim-FPN with the reference code's choices where it departs from the paper: raw
# 256-channel FPN features (no projection), negatives from every window-pooled position
# of the key maps (3x3 on P4, 4x4 on P3, stride 1), P3 negatives from this GPU only.
_base_ = ['./resim-fpn_r50_200e_in1k.py']

model = dict(
    region_head=dict(
        projection=False,
        negatives='dense',
        loss=[
            dict(type='RegionInfoNCELoss', temperature=0.2, loss_weight=1.0, gather=False),
            dict(type='RegionInfoNCELoss', temperature=0.2, loss_weight=1.0, gather=True),
        ]))
