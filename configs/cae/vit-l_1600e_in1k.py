# CAE ViT-L/16, 1600 epochs, DALL-E token targets: width 1024, 24 blocks, 16 heads,
# encoder LayerScale 1e-5 (paper Sec. 5.2), regressor / decoder LayerScale 0.1, 40
# warm-up epochs.
_base_ = './vit-b_1600e_in1k.py'

model = dict(
    backbone=dict(arch='l', layer_scale_init_value=1e-5),
    neck=dict(embed_dims=1024, num_heads=16))
