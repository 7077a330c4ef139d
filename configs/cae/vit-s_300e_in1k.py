# CAE ViT-S/16, 300 epochs, DALL-E token targets. ViT-S as in the reference
# (cae_small_patch16_224_8k_vocab): width 384, 12 blocks, 12 heads, LayerScale 0.1;
# the regressor and decoder keep the encoder width and head count.
_base_ = './vit-b_300e_in1k.py'

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=384, num_layers=12, num_heads=12,
                  feedforward_channels=1536)),
    neck=dict(embed_dims=384, num_heads=12))
