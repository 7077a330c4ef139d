# tiny_mae.py with a k-NN monitor on the labelled demo folder (set the three data_root
# fields: train_dataloader.dataset and custom_hooks.0.{bank,query}_dataloader.dataset).
_base_ = ['./tiny_mae.py']

_knn_loader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='CustomDataset', data_root='data/demo/imagenet', data_prefix='train',
                 with_label=True,
                 pipeline=[dict(type='LoadImageFromFile'), dict(type='Resize', scale=(64, 64)),
                           dict(type='PackInputs')]))
custom_hooks = [dict(type='KNNMonitorHook', bank_dataloader=_knn_loader,
                     query_dataloader=_knn_loader, k=5)]
train_cfg = dict(max_epochs=1)
