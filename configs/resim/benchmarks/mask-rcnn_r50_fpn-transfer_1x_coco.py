# ReSim-FPN^T (paper Sec. 4.3, Table 5: 39.8 / 36.0): the 1x recipe, the detector's FPN
# also starting from the pre-trained one (laterals of C3-C5 -> lateral_convs.1-3, P3 / P4
# output convs -> fpn_convs.1 / 2; the C2 lateral, the P2 / P5 outputs and the SyncBN
# layers are new; the convs' biases are dropped since a norm follows them). Both init
# configs read the converter's output:
#   python tools/model_converters/convert.py --from resim-official CKPT OUT --with-fpn
#   model.backbone.init_cfg.checkpoint=OUT model.neck.init_cfg.checkpoint=OUT
_base_ = ['./mask-rcnn_r50_fpn_1x_coco.py']

model = dict(neck=dict(init_cfg=dict(type='Pretrained', checkpoint='', prefix='neck.')))
# The neck weights ReSim-FPN^T leaves new are documented as missing for the load check.
custom_hooks = [dict(type='mmpretrain.CheckpointKindHook', allowed_missing=[
    r'^lateral_convs\.0\.', r'^fpn_convs\.[03]\.', r'^(lateral|fpn)_convs\.\d+\.bn\.'])]
