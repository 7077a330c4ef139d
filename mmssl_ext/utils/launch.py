"""Launcher glue shared by tools/train.py and tools/test.py."""
import os

import torch
import torch.distributed as torch_dist
from mmengine.config import Config


def setup_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Make a ``--launcher pytorch`` run work on machines without a GPU.

    mmengine's ``init_dist`` always calls ``torch.cuda.set_device`` and its default
    model wrapper passes ``device_ids=[LOCAL_RANK]`` to DDP; both fail on CPU. When
    no GPU is visible, this initialises the process group with the gloo backend
    (the runner then skips its own ``init_dist``) and asks DDP for a CPU module
    (``device_ids=None``), or FSDP (a ``FlexibleRunner`` config with ``FSDPStrategy``)
    for CPU shards (``device_id='cpu'``). torch's FSDP broadcasts rank 0's initial
    weights (``sync_module_states``) only on GPUs: on CPU each rank keeps the shards of
    its own initialisation (the same weights when ``randomness.diff_rank_seed`` is
    False or the weights are loaded from a checkpoint). On GPUs nothing changes: plain
    torchrun + NCCL + DDP / FSDP.
    """
    if launcher != 'pytorch' or torch.cuda.is_available():
        return
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    strategy = cfg.get('strategy')
    if strategy is not None and strategy.get('type') == 'FSDPStrategy':
        strategy.setdefault('model_wrapper', {}).update(device_id='cpu',
                                                        sync_module_states=False)
    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
    wrapper['device_ids'] = None
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    cfg.model_wrapper_cfg = wrapper
    os.environ.setdefault('LOCAL_RANK', '0')
