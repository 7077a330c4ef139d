# CAE ViT-L/16, 1600 epochs (vit-l_1600e_in1k.py) trained with FSDP (configs/_base_/fsdp.py)
# instead of DDP: parameters, gradients and AdamW state sharded over the GPUs, which
# leaves more of each GPU's memory to activations. Same recipe; AmpOptimWrapper switches
# to FSDP's sharded gradient scaler by itself. Not yet run on GPUs: the 2-process CPU
# test (tests/test_tools/test_fsdp.py) checks that FSDP trains the same weights as DDP.
#   bash tools/dist_train.sh configs/cae/vit-l_1600e_in1k_fsdp.py 8
_base_ = ['./vit-l_1600e_in1k.py', '../_base_/fsdp.py']

# FSDP flattens parameters: exempt the 1-D ones from weight decay by name, as
# flat_decay_mult=0.0 does without FSDP (norms and `bias` are found by module / name):
# LayerScale gammas and the q / v biases of the attention.
optim_wrapper = dict(
    paramwise_cfg=dict(flat_decay_mult=None,
                       custom_keys={key: dict(decay_mult=0.0) for key in (
                           'gamma_1', 'gamma_2', 'q_bias', 'v_bias')}))
