# iBOT alone at small scale: the control of configs/pqcl/vit-t_small-scale_fmnist.py with
# the query stream off (query_loss_weight=0: no query tokens, no teacher pass over the
# query crops): DINO's class-token loss and iBOT's masked-patch loss, with the same
# encoder, data, small-scale departures (reasons there) and wall-clock budget: its
# cheaper step buys more iterations per epoch (`indices` below), scaled by the step's
# multiply-adds relative to PQCL's (an estimate: 33 / 42 GMAC per step at batch 64,
# 260 iterations; not yet calibrated with tools/analysis_tools/benchmark.py).
# It inherits PQCL's small-scale head and temperatures (BatchNorm projection head,
# teacher temperature 0.02). This control has not been re-run since they were
# adopted; its budget has not been timed with the harness
# (tools/analysis_tools/published_figures.sh).
_base_ = ['./vit-t_small-scale_fmnist.py']

model = dict(query_loss_weight=0.)
train_dataloader = dict(dataset=dict(indices=64 * 26))
