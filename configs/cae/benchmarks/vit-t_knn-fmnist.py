# Weighted k-NN (k 20, T 0.07) and linear probe of the small-scale CAE encoder
# (configs/cae/vit-t_small-scale_fmnist.py) on the Fashion-MNIST folder: the ViT-T
# protocol of configs/pqcl/benchmarks/vit-t_knn-fmnist.py (class token after the final
# norm, 32 px images as stored), with the encoder as CAE trains it: mmpretrain's BEiTViT
# (q/v bias, LayerScale, absolute position embedding, no relative position bias), which
# loads the extracted CAE encoder strictly as it is stored.
#   python tools/model_converters/extract_backbone.py CAE_CKPT backbone.pth
#   python tools/analysis_tools/knn_eval.py THIS_CONFIG --checkpoint backbone.pth
_base_ = ['../../pqcl/benchmarks/vit-t_knn-fmnist.py']

model = dict(
    _delete_=True,
    type='BEiTViT',
    arch=dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512),
    img_size=32,
    patch_size=4,
    layer_scale_init_value=0.1,
    bias='qv_bias',
    use_abs_pos_emb=True,
    use_rel_pos_bias=False,
    norm_cfg=dict(type='LN', eps=1e-6),
    final_norm=True,
    out_type='cls_token',
    init_cfg=dict(type='Pretrained', checkpoint='', prefix=None))
