# CAE ViT-B/16, 300 epochs, RGB pixel targets (paper Table 8's alternative target):
# the decoder predicts the 16 x 16 x 3 per-patch normalised pixels of each masked patch
# with an MSE loss. No tokenizer and no external weights. Otherwise as vit-b_300e_in1k.
_base_ = [
    '../_base_/models/cae_vit-base-p16.py',
    '../_base_/datasets/imagenet_cae_pixel.py',
    '../_base_/schedules/cae_adamw_coslr.py',
    '../_base_/default_runtime.py',
]

model = dict(
    neck=dict(out_channels=16 * 16 * 3),
    head=dict(target='pixels'),
    target_generator=None)
train_dataloader = dict(batch_size=256)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
