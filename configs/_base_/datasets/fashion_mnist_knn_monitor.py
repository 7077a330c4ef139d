# Weighted k-NN monitor (KNNMonitorHook: k 20, T 0.07) on the Fashion-MNIST folder of
# tools/dataset_converters/fashion_mnist.py (`make fashion-mnist`): the first 10,000
# images of train/ are the labelled memory (a pass over all 60,000 would cost as much as
# a small-scale run), val/ (the 10,000 test images, never seen in pre-training) the
# queries, every 5 epochs, with the run's own BN statistics. Off in the paper configs; the small-scale
# configs add one of these to their custom_hooks:
#   knn_monitor        the 32 px images as stored (ViT encoders, 4 px patches)
#   knn_monitor_64px   bicubic upsampling to 64 px (ResNet encoders on 64 px views)
fashion_mnist_root = 'data/fashion_mnist'
_knn_loader = dict(batch_size=256, num_workers=0, persistent_workers=False,
                   sampler=dict(type='DefaultSampler', shuffle=False),
                   collate_fn=dict(type='default_collate'))
_load = dict(type='CheckedLoadImageFromFile')
_resize_64 = dict(type='Resize', scale=(64, 64), interpolation='bicubic', backend='pillow')


def _knn_monitor(pipeline):
    return dict(
        type='KNNMonitorHook', interval=5,
        bank_dataloader=dict(_knn_loader, dataset=dict(
            type='ImageNet', data_root=fashion_mnist_root, split='train', indices=10000,
            pipeline=pipeline)),
        query_dataloader=dict(_knn_loader, dataset=dict(
            type='ImageNet', data_root=fashion_mnist_root, split='val', pipeline=pipeline)))


knn_monitor = _knn_monitor([_load, dict(type='PackInputs')])
knn_monitor_64px = _knn_monitor([_load, _resize_64, dict(type='PackInputs')])
