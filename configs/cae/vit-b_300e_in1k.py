# CAE ViT-B/16, 300 epochs on ImageNet-1k, DALL-E token targets (paper Sec. 5.2):
# 8 GPUs x 256 images = batch 2048, AdamW lr 1.5e-3, fp16 AMP. The DALL-E encoder
# weights are downloaded at start-up; vit-b_300e_in1k_pixel.py needs no download.
_base_ = [
    '../_base_/models/cae_vit-base-p16.py',
    '../_base_/datasets/imagenet_cae.py',
    '../_base_/schedules/cae_adamw_coslr.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=256)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=3))
