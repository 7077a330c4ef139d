# CAE with a ViT-B/16 encoder (paper Sec. 5.2 / reference code): BEiT-style encoder
# over the cls token + visible patches (q/v bias, LayerScale 0.1, drop path 0.1, fixed
# 2-D sin-cos position embedding), a 4-block latent contextual regressor, a 4-block
# decoder over the masked tokens, DALL-E token targets (vocabulary 8192, 14x14 tokens
# from the 112 px image) and the alignment loss with lambda = 2, its target being the
# same live encoder applied to the masked patches without gradient.
model = dict(
    type='ContextAutoencoder',
    backbone=dict(
        type='ContextEncoderViT',
        arch='b',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        bias='qv_bias'),
    neck=dict(
        type='CAERegressorDecoder',
        num_patches_side=14,
        embed_dims=768,
        num_heads=12,
        out_channels=8192,
        regressor_depth=4,
        decoder_depth=4,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1),
    head=dict(type='CAEPretrainHead', target='tokens', align_weight=2.0),
    # mmpretrain's DALL-E encoder. Its weights are downloaded at initialisation
    # (OpenMMLab's copy of OpenAI's released encoder). The file has no published hash:
    # 'mmssl_ext+' asks for mmssl_ext's loader (weights-only, a warning that the file is
    # unverified, the cached copy revalidated with the server; mmssl_ext/utils/download.py).
    target_generator=dict(
        type='DALL-E',
        init_cfg=dict(
            type='Pretrained',
            checkpoint='mmssl_ext+https://download.openmmlab.com/mmselfsup/1.x/'
            'target_generator_ckpt/dalle_encoder.pth')),
    alignment_encoder='online')
