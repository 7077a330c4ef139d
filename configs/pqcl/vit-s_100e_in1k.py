# PQCL (iBOT baseline) ViT-S/16, 100 epochs on ImageNet-1k, batch 1024 (8 GPUs x 128).
# Paper: 69.7 linear probe (cite, not reproduced here).
_base_ = [
    '../_base_/models/pqcl_vit-small-p16.py',
    '../_base_/datasets/imagenet_pqcl.py',
    '../_base_/schedules/pqcl_adamw_coslr-100e.py',
    '../_base_/default_runtime.py',
]
