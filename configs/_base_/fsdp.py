# Fully sharded data parallel training (mmengine's FlexibleRunner + FSDPStrategy) for
# ViT models that do not fit comfortably with DDP: parameters, gradients and optimizer
# state are sharded over the ranks, one FSDP unit per transformer block (the full
# weights of one block are gathered at a time). tools/train.py builds the
# FlexibleRunner from `runner_type`; tools/dist_train.sh / slurm_train.sh launch it as
# any other config. Checkpoints are written whole by rank 0 (state_dict_cfg='full'), so
# they load like DDP ones (extract_backbone.py, --resume).
#
# A leaf config using this base must not rely on `flat_decay_mult`: FSDP hands the
# optimizer constructor flattened 1-D shards, so every parameter would count as "flat".
# Name the 1-D parameters to exempt from weight decay in `custom_keys` instead
# (see configs/cae/vit-l_1600e_in1k_fsdp.py).
runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    state_dict_cfg='full',
    model_wrapper=dict(
        use_orig_params=True,  # per-parameter lr / weight decay groups
        sync_module_states=True,  # every rank starts from rank 0's weights, as with DDP
        auto_wrap_policy=dict(
            type='wrap_modules_by_class',
            class_names=['BEiTTransformerEncoderLayer', 'TransformerEncoderLayer',
                         'LatentRegressorLayer'])))
# optim_wrapper.clip_grad on the global norm over all shards
custom_hooks = [dict(type='FSDPGradClipHook')]
