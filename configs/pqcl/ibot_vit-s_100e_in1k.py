# iBOT ViT-S/16, 100 epochs: PQCL's vit-s_100e_in1k recipe with the query stream
# switched off (query_loss_weight=0: no query tokens, no teacher pass over the query
# crops). The baseline that the query stream's extra cost is measured against.
_base_ = ['./vit-s_100e_in1k.py']

model = dict(query_loss_weight=0.)
