# MoCo v2 on ReSim's views and code path: ReSim-FPN with the region branch switched off
# (no FPN, no region projection / pooling / loss). The baseline of ReSim's extra
# training cost (paper: about 62 h vs 53 h for 200 IN-1K epochs on 8 V100).
_base_ = ['./resim-fpn_r50_200e_in1k.py']

model = dict(backbone=dict(out_indices=(3, )), region_neck=None, region_head=None)
