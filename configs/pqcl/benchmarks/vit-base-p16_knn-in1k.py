# Weighted k-NN evaluation of a PQCL ViT-B/16 TEACHER encoder (see the ViT-S config).
_base_ = ['./vit-small-p16_knn-in1k.py']

model = dict(arch='base')
