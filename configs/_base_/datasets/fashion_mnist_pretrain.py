# Pre-training loader of the small-scale configs (issue 13): the unlabelled pretrain/
# split of the Fashion-MNIST folder of tools/dataset_converters/fashion_mnist.py
# (`make fashion-mnist`), batch 64, one loader worker, on CPU. A config takes it with its
# own image count (the budget) and pipeline:
#   train_dataloader = dict(
#       _base_.fashion_mnist_pretrain_loader,
#       dataset=dict(_base_.fashion_mnist_pretrain_loader.dataset,
#                    indices=NUM_IMAGES, pipeline=[...]))
# adding `_delete_=True` to `dataset` where a base config already holds an ImageNet
# `train_dataloader` (tools/benchmarks/small_scale.py points `dataset.data_root` at any
# other folder).
fashion_mnist_pretrain_loader = dict(
    batch_size=64,
    num_workers=1,
    persistent_workers=True,
    pin_memory=False,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='CustomDataset',
        data_root='data/fashion_mnist',
        data_prefix='pretrain',
        with_label=False))
