# iBOT alone at small scale: the control of configs/pqcl/vit-t_small-scale_fmnist.py with
# the query stream off (query_loss_weight=0: no query tokens, no teacher pass over the
# query crops): DINO's class-token loss and iBOT's masked-patch loss, with the same
# encoder, data, small-scale departures (reasons there) and wall-clock budget: its
# cheaper step buys more iterations per epoch (`indices` below), scaled by the step's
# multiply-adds relative to PQCL's (33 / 42 GMAC per step at batch 64: 260
# iterations). Timed side by side with PQCL on 2 quiet threads
# (tools/analysis_tools/published_figures.sh OUT small_scale_pqcl_controls):
# 0.797 s per step x 260 = 207 s of training, PQCL 1.077 s x 200 = 215 s.
# It inherits PQCL's small-scale head, temperatures and teacher EMA (BatchNorm
# projection head, teacher temperature 0.02, a constant EMA 0.95) and its teacher
# head's batch-statistics BatchNorm. Small-scale benchmark scoring (test-split k-NN),
# seeds 0 / 1 / 2: 61.85 / 64.27 / 67.28 (mean 64.47); PQCL 70.82 / 68.89 / 64.52 (mean
# 68.08), MoCo v3 mean 70.58. Seeds 3 / 4 / 5, which no recipe choice has seen:
# 60.52 / 67.92 / 66.77 (mean 65.07), PQCL 64.00 / 60.73 / 62.03 (mean 62.25), MoCo v3
# 70.19 (model_zoo.md, "Fresh seeds"). With PQCL's earlier EMA 0.95 -> 1: 59.14 / 62.14 / 66.43
# (mean 62.57), PQCL 65.99; with 0.98 -> 1: 59.45 / 60.43 / 60.88 (mean 60.25), PQCL
# 62.53.
_base_ = ['./vit-t_small-scale_fmnist.py']

model = dict(query_loss_weight=0.)
train_dataloader = dict(dataset=dict(indices=64 * 26))
