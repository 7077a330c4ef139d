# ReSim-FPN^T with the 2x schedule (24 epochs, steps at 16 and 22).
_base_ = ['./mask-rcnn_r50_fpn_2x_coco.py']

model = dict(neck=dict(init_cfg=dict(type='Pretrained', checkpoint='', prefix='neck.')))
