# CIM pre-training schedule (paper / reference, ViT-B 300 epochs): AdamW (0.9, 0.95),
# lr 1.5e-4 x batch / 256 at an effective batch of 4096, weight decay 0.05 except on
# norms, biases, position embeddings and class tokens, 40 warm-up epochs, cosine to 0.
# The reference trains in fp32 (its --amp flag is never used); pass --amp for mixed
# precision.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1.5e-4 * 4096 / 256, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=40,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=260,
        eta_min=0.0,
        by_epoch=True,
        begin=40,
        end=300,
        convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)
auto_scale_lr = dict(base_batch_size=4096)
