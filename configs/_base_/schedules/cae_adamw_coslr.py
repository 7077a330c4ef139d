# CAE pre-training schedule (paper Sec. 5.2, reference scripts): AdamW (0.9, 0.999),
# lr 1.5e-3 at batch 2048, weight decay 0.05 except on 1-D parameters (norms, biases,
# q/v biases, LayerScale) and tokens / position embeddings, 10 warm-up epochs, cosine
# to 1e-5, gradient clipping at norm 3.0, fp16 mixed precision with a dynamic loss
# scale. The 800 / 1600-epoch recipes warm up for 20 / 40 epochs.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=1.5e-3, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=3.0),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        flat_decay_mult=0.0,
        custom_keys={
            'pos_embed': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
            'mask_token': dict(decay_mult=0.0),
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=290,
        eta_min=1e-5,
        by_epoch=True,
        begin=10,
        end=300,
        convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)
auto_scale_lr = dict(base_batch_size=2048)
