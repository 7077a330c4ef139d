# ReSim-FPN on ImageNet-100 (paper): 500 epochs, queue 16,384, otherwise as IN-1K.
# data/imagenet100/train/<class>/*.JPEG (the 100-class subset of CMC / the paper).
_base_ = ['./resim-fpn_r50_200e_in1k.py']

model = dict(queue_len=16384)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='data/imagenet100/',
        data_prefix='train',
        with_label=False,
        pipeline={{_base_.train_pipeline}}))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=500, by_epoch=True, begin=0, end=500),
]
train_cfg = dict(max_epochs=500)
