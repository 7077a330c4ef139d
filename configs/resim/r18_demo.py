# ReSim-FPN on the demo image folder (tools/dataset_converters/make_demo_data.py), small
# enough for 2 CPU cores: ResNet-18 on 64 px views, a 64-channel FPN, P3 windows of 16 px
# at stride 12 (4 x 4) and P4 windows of 32 px at stride 16 (2 x 2; the reference's grid
# rule: windows end inside the view, region_head.edge_windows=True adds the row and
# column ending on the edge: 5 x 5 and 3 x 3), a 32-entry queue.
# Same algorithm, data path and losses as the ImageNet recipes. 40 epochs of the
# 100-image demo folder (batch 8, 480 iterations) take about 2 minutes on 2 CPU cores.
_base_ = [
    '../_base_/models/resim_fpn_r50.py',
    '../_base_/datasets/imagenet_resim.py',
    '../_base_/schedules/resim_sgd_coslr-200e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    queue_len=32,
    feat_dim=64,
    backbone=dict(depth=18),
    neck=dict(in_channels=512, hid_channels=256, out_channels=64),
    region_neck=dict(in_channels=(128, 256, 512), out_channels=64),
    region_head=dict(
        in_channels=(64, 64),
        windows=(16, 32),
        window_strides=(12, 16),
        view_size=64,
        proj_channels=32))

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=False,
    pin_memory=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root='data/demo/imagenet',
        data_prefix='train',
        with_label=False,
        pipeline=[
            dict(type='CheckedLoadImageFromFile'),
            dict(type='ReSimViews', size=64, scale=(0.2, 1.0), flip_prob=0.5),
            dict(type='PackInputs', algorithm_keys=['crop_boxes']),
        ]))

param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=40, by_epoch=True, begin=0, end=40),
]
train_cfg = dict(max_epochs=40)
default_hooks = dict(
    logger=dict(interval=6),
    checkpoint=dict(interval=10, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=8)
