# configs/cae/vit-t_demo.py with the FSDP runtime of configs/cae/vit-l_1600e_in1k_fsdp.py,
# for the 2-process CPU (gloo) test.
_base_ = ['../../../configs/cae/vit-t_demo.py', '../../../configs/_base_/fsdp.py']

optim_wrapper = dict(
    paramwise_cfg=dict(flat_decay_mult=None,
                       custom_keys={key: dict(decay_mult=0.0) for key in (
                           'gamma_1', 'gamma_2', 'q_bias', 'v_bias')}))
