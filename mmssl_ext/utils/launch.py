"""Launcher glue shared by tools/train.py and tools/test.py."""
import os
import os.path as osp

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


def default_work_dir(config_path: str, root: str = 'work_dirs') -> str:
    """``work_dirs/<algo>/<name>``: a work directory unique to each config path.

    Config file names repeat across algorithms (``cim/vit-t_demo.py`` and
    ``cae/vit-t_demo.py``), so the file name alone would let one run resume from, or
    overwrite, another's checkpoints. The part of the path after its last ``configs``
    directory is kept (``configs/cim/benchmarks/x.py`` -> ``work_dirs/cim/benchmarks/x``,
    also for packaged ``mmssl_ext/.mim/configs``); a config elsewhere keeps its parent
    directory (``my_exps/cim/x.py`` -> ``work_dirs/cim/x``).
    """
    parts = osp.normpath(osp.abspath(config_path)).split(osp.sep)
    parts[-1] = osp.splitext(parts[-1])[0]
    if 'configs' in parts[:-1]:
        last = len(parts) - 1 - parts[::-1].index('configs', 1)
        return osp.join(root, *parts[last + 1:])
    return osp.join(root, *parts[-2:])
