# Mask R-CNN R50-FPN for transferring self-supervised ResNets (MoCo / mmselfsup
# protocol, ReSim paper Sec. 4.3): every backbone stage trained with synchronised BN
# (norm_eval off, nothing frozen), new SyncBN layers in the FPN and in the 4conv-1fc
# box head and the mask head. The backbone loads a pre-training checkpoint (prefix
# 'backbone.') or an extract_backbone.py output (prefix=None).
_base_ = ['mmdet::_base_/models/mask-rcnn_r50_fpn.py']

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))
