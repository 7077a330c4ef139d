"""Shuffle-BN across ranks for several tensors sharing one permutation."""
from typing import List, Tuple

import torch
from mmengine.dist import all_gather, broadcast, get_rank


@torch.no_grad()
def batch_shuffle_ddp(*tensors: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
    """Deal a random permutation of the global batch to the ranks (MoCo's shuffle BN).

    Like mmpretrain's ``batch_shuffle_ddp``, for several (B, ...) tensors at once (the
    key images and their region boxes), and on CPU (gloo) as on GPU. Undo it with
    mmpretrain's ``batch_unshuffle_ddp(x, idx_unshuffle)``. Without distributed
    training the permutation only reorders the local batch.

    Args:
        *tensors (Tensor): (B, ...) tensors, the same B on every rank.

    Returns:
        tuple: the shuffled tensors (list) and the (R*B,) ``idx_unshuffle``.
    """
    gathered = [torch.cat(all_gather(tensor)) for tensor in tensors]
    local = len(tensors[0])
    idx_shuffle = torch.randperm(len(gathered[0]), device=tensors[0].device)
    broadcast(idx_shuffle, src=0)
    idx_this = idx_shuffle.view(-1, local)[get_rank()]
    return [tensor[idx_this] for tensor in gathered], torch.argsort(idx_shuffle)
