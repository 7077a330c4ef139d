# ADE20K, 512 x 512 crops (mmseg's pipeline), 8 GPUs x 2 images = batch 16.
_base_ = ['mmseg::_base_/datasets/ade20k.py']

train_dataloader = dict(batch_size=2)
val_dataloader = dict(batch_size=1)
test_dataloader = val_dataloader
