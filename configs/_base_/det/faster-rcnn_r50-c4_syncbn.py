# Faster R-CNN R50-C4 for transferring self-supervised ResNets (Detectron2 / MoCo
# protocol, as mmselfsup's faster-rcnn_r50-c4 benchmark): ResNet-50 stages 1-3 (pytorch
# style, ImageNet RGB normalisation) as the backbone, stage 4 plus a BN after it
# (ResLayerExtraNorm, registered in mmdet's scope by mmpretrain) as the RoI head; every
# BN synchronised and trained. Both parts read the pre-trained ResNet (prefix
# 'backbone.'): the backbone takes stem + stages 1-3, the RoI head stage 4.
_base_ = ['mmdet::_base_/models/faster-rcnn_r50-caffe-c4.py']

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True),
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    roi_head=dict(
        shared_head=dict(
            type='ResLayerExtraNorm',
            norm_cfg=norm_cfg,
            norm_eval=False,
            style='pytorch',
            init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.'))))
