# CIM ViT-B/16, 300 epochs on ImageNet-1k (paper / reference recipe): 8 GPUs x 256
# images x 2 accumulation steps = effective batch 4096, AdamW lr 1.5e-4 x 4096 / 256.
# Pre-trained online encoder -> fine-tuning: configs/cim/benchmarks/.
_base_ = [
    '../_base_/models/cim_vit-base-p16.py',
    '../_base_/datasets/imagenet_cim.py',
    '../_base_/schedules/cim_adamw_coslr.py',
    '../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=256)
optim_wrapper = dict(accumulative_counts=2)
