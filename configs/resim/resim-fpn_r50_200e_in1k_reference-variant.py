# ReSim-FPN with the reference code's choices where it departs from the paper's main
# text: raw 256-channel FPN features (no projection) and, as negatives, every position of
# the key maps average-pooled with a 3 x 3 kernel at stride 1 (region_head.dense_kernels,
# on P4 and on P3 alike: 12 x 12 and 26 x 26 positions per 224 px image, the counts of
# the paper's appendix). As in the base config: the 8 x 8 P3 window grid, P4 negatives
# from all GPUs and P3 negatives from this GPU only.
_base_ = ['./resim-fpn_r50_200e_in1k.py']

model = dict(region_head=dict(projection=False, negatives='dense', dense_kernels=3))
