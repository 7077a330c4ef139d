# ImageNet-1k fine-tuning of a CIM ResNet-50 with the ResNet Strikes Back a3 recipe
# (100e), as the paper's Table 6. Transfers the ONLINE encoder (CIMResNet keys equal
# mmpretrain ResNet keys; prefix 'backbone.').
_base_ = ['mmpretrain::resnet/resnet50_8xb256-rsb-a3-100e_in1k.py']

custom_imports = dict(imports=['mmssl_ext'], allow_failed_imports=False)

model = dict(
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint='', prefix='backbone.')))

default_hooks = dict(checkpoint_kind=dict(type='CheckpointKindHook'))
