# DINO alone at small scale: the control of configs/pqcl/vit-t_small-scale_fmnist.py with
# the query stream off (query_loss_weight=0: no query tokens, no teacher pass over the
# query crops) and no masked-patch loss (use_mim=False, no masks): the class-token
# loss of DINO only, with the same encoder, data, small-scale departures (reasons
# there) and wall-clock budget: its cheaper step buys more iterations per epoch
# (`indices` below), scaled by the step's multiply-adds relative to PQCL's (an
# estimate: 26 / 42 GMAC per step at batch 64, 320 iterations; not yet calibrated
# with tools/analysis_tools/benchmark.py).
# It inherits PQCL's small-scale head and temperatures (BatchNorm projection head,
# teacher temperature 0.02). This control has not been re-run since they were
# adopted; its budget has not been timed with the harness
# (tools/analysis_tools/published_figures.sh).
_base_ = ['./vit-t_small-scale_fmnist.py']

model = dict(use_mim=False, query_loss_weight=0.)
train_dataloader = dict(dataset=dict(indices=64 * 32, pipeline=[
    dict(type='CheckedLoadImageFromFile'),
    dict(type='PQCLViews', global_size=32, query_size=16, patch_size=4, mask_prob=0.),
    dict(type='PackPQCLInputs'),
]))
