# Weighted k-NN (DINO protocol: k 20, T 0.07, L2-normalised class token after the final
# norm) and linear probe (knn_eval.py --linear-probe) of the small-scale ViT-T encoders
# (128-d, 4 blocks, 4 px patches on 32 px images): PQCL / iBOT / DINO
# (configs/pqcl/*small-scale_fmnist*.py), MoCo v3, CIM and MAE, their random
# initialisation and the raw pixels, in tools/benchmarks/small_scale.py (CAE's
# LayerScale encoder: configs/cae/benchmarks/vit-t_knn-fmnist.py, derived from this
# one), on the Fashion-MNIST folder of tools/dataset_converters/fashion_mnist.py:
# train/ is the memory, val/ (the test set, never seen in pre-training) the queries.
#   python tools/model_converters/extract_backbone.py PRETRAIN_CKPT backbone.pth
#   python tools/analysis_tools/knn_eval.py THIS_CONFIG --checkpoint backbone.pth
# (prefix=None: the extracted file has no key prefix; prefix='' matches no key and fails.
# On a raw PQCL checkpoint use --cfg-options model.init_cfg.prefix=teacher_backbone.module.)
custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)
default_scope = 'mmpretrain'
data_root = 'data/fashion_mnist'

model = dict(
    type='VisionTransformer',
    arch=dict(embed_dims=128, num_layers=4, num_heads=4, feedforward_channels=512),
    img_size=32,
    patch_size=4,
    qkv_bias=True,
    norm_cfg=dict(type='LN', eps=1e-6),
    final_norm=True,
    out_type='cls_token',
    init_cfg=dict(type='Pretrained', checkpoint='', prefix=None))

data_preprocessor = dict(
    type='ClsDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

test_pipeline = [dict(type='LoadImageFromFile'), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ImageNet', data_root=data_root, split='train',
                 pipeline=test_pipeline))
val_dataloader = dict(
    batch_size=256,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='ImageNet', data_root=data_root, split='val',
                 pipeline=test_pipeline))
knn = dict(k=(20, ), temperature=0.07)
