# MoCo v2 on ReSim's views and code path at small scale (region branch off): the peer
# of configs/resim/r18_small-scale_fmnist.py, with its small-scale departures (SplitBN in
# one process, key momentum 0.99, queue 1024; reasons there).
_base_ = ['./r18_small-scale_fmnist.py']

model = dict(backbone=dict(out_indices=(3, )), region_neck=None, region_head=None)
