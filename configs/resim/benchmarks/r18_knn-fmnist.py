# Weighted k-NN (DINO protocol: k 20, T 0.07, L2-normalised globally average-pooled C5)
# of the small-scale ReSim / MoCo v2 ResNet-18 (configs/resim/*small-scale_fmnist*.py) on
# the Fashion-MNIST folder of tools/dataset_converters/fashion_mnist.py: train/ is the
# memory, val/ (the test set, never seen in pre-training) the queries. BatchNorm in eval
# mode (running statistics of pre-training); images resized 32 -> 64 px as in pre-training.
#   python tools/model_converters/extract_backbone.py RESIM_CKPT backbone.pth
#   python tools/analysis_tools/knn_eval.py THIS_CONFIG --checkpoint backbone.pth --precise-bn 20
# Use --precise-bn (BN statistics recomputed on 20 memory batches) for the trained AND the
# random-init encoder: a random-init ResNet's BN layers are identities in eval mode
# (running mean 0, variance 1), a different function from a normalising one. Measured
# (issue 13, 32 px, 5,000 / 2,000 images): random init 77.4 without, 72.1 with precise BN.
# (prefix=None: the extracted file has no key prefix; prefix='' matches no key and fails.
# On the raw checkpoint use --cfg-options model.init_cfg.prefix=backbone.)
_base_ = ['../../pqcl/benchmarks/vit-t_knn-fmnist.py']

model = dict(
    _delete_=True,
    type='ResNet',
    depth=18,
    out_indices=(3, ),
    init_cfg=dict(type='Pretrained', checkpoint='', prefix=None))

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(64, 64), interpolation='bicubic', backend='pillow'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
