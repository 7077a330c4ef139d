# ViT Mask R-CNN optimisation (CAE paper Sec. 5.2): AdamW lr 3e-4 at batch 32, weight
# decay 0.05 (none on norms, biases, position / class tokens), layer-wise lr decay 0.75
# over the backbone blocks (ViT-L: 0.8), 1x schedule: 12 epochs, lr / 10 at epochs 9
# and 11 (the paper's steps; mmdet's R50 1x uses 8 and 11), 500-iteration linear warm-up.
_base_ = ['mmdet::_base_/schedules/schedule_1x.py']

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        layer_decay_rate=0.75,
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        flat_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[9, 11],
         gamma=0.1),
]
auto_scale_lr = dict(base_batch_size=32)
