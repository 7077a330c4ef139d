# ReSim-FPN^T with the 2x schedule (24 epochs, steps at 16 and 22).
_base_ = ['./mask-rcnn_r50_fpn_2x_coco.py']

model = dict(neck=dict(init_cfg=dict(type='Pretrained', checkpoint='', prefix='neck.')))
# The neck weights ReSim-FPN^T leaves new are documented as missing for the load check.
custom_hooks = [dict(type='mmpretrain.CheckpointKindHook', allowed_missing=[
    r'^lateral_convs\.0\.', r'^fpn_convs\.[03]\.', r'^(lateral|fpn)_convs\.\d+\.bn\.'])]
