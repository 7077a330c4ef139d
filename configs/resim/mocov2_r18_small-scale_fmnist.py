# MoCo v2 on ReSim's views and code path at small scale (region branch off): the peer
# of configs/resim/r18_small-scale_fmnist.py, with its small-scale departures (SplitBN in
# one process, key momentum 0.99, queue 1024, 5,120 images, lr 0.06; reasons there).
# Budget: the same 320 iterations as ReSim. A MoCo v2 step skips the FPN and the region
# branch, so equal wall-clock would give it more steps: calibrate max_epochs with
# tools/analysis_tools/benchmark.py on a quiet machine (not done yet: issue 13).
_base_ = ['./r18_small-scale_fmnist.py']

model = dict(backbone=dict(out_indices=(3, )), region_neck=None, region_head=None)
