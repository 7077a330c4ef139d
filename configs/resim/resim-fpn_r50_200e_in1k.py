# ReSim-FPN, ResNet-50, 200 epochs on ImageNet-1K, 8 GPUs x 32 images.
_base_ = [
    '../_base_/models/resim_fpn_r50.py',
    '../_base_/datasets/imagenet_resim.py',
    '../_base_/schedules/resim_sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]
