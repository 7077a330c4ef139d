# DINO alone at small scale: the control of configs/pqcl/vit-t_small-scale_fmnist.py with
# the query stream off (query_loss_weight=0: no query tokens, no teacher pass over the
# query crops) and no masked-patch loss (use_mim=False, no masks): the class-token
# loss of DINO only, with the same encoder, data, small-scale departures (reasons
# there) and wall-clock budget: its cheaper step buys more iterations per epoch
# (`indices` below), scaled by the step's multiply-adds relative to PQCL's (26 / 42
# GMAC per step at batch 64: 320 iterations). Timed side by side with PQCL on 2 quiet
# threads (tools/analysis_tools/published_figures.sh OUT small_scale_pqcl_controls):
# 0.672 s per step x 320 = 215 s of training, PQCL 1.077 s x 200 = 215 s.
# It inherits PQCL's small-scale head, temperatures and teacher EMA (BatchNorm
# projection head, teacher temperature 0.02, a constant EMA 0.95) and its teacher
# head's batch-statistics BatchNorm. Small-scale benchmark scoring (test-split k-NN),
# seeds 0 / 1 / 2: 66.73 / 62.75 / 54.84 (mean 61.44); iBOT alone 64.47, PQCL 68.08,
# MoCo v3 70.58 (means). Seeds 3 / 4 / 5, which no recipe choice has seen: 64.64 /
# 60.66 / 63.06 (mean 62.79), PQCL 62.25, iBOT alone 65.07, MoCo v3 70.19
# (model_zoo.md, "Fresh seeds"). With PQCL's earlier EMA 0.95 -> 1: 64.18 / 59.83 / 63.58 (mean
# 62.53); with 0.98 -> 1: 57.84 / 59.07 / 59.45 (mean 58.79).
_base_ = ['./vit-t_small-scale_fmnist.py']

model = dict(use_mim=False, query_loss_weight=0.)
train_dataloader = dict(dataset=dict(indices=64 * 32, pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='PQCLViews', global_size=32, query_size=16, patch_size=4, mask_prob=0.),
    dict(type='PackPQCLInputs'),
]))
