# PQCL on the DINO baseline, ViT-S/16, 100 epochs: L_cls + L_query, no masked-patch loss
# and unmasked global views; everything else as the iBOT recipe.
_base_ = ['./vit-s_100e_in1k.py']

model = dict(use_mim=False)
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='PQCLViews', global_size=224, query_size=96, patch_size=16, mask_prob=0.),
    dict(type='PackPQCLInputs'),
]))
