"""ReSim's region-level InfoNCE with negatives from the whole (global) batch."""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather, get_rank

from mmssl_ext.registry import MODELS


@MODELS.register_module()
class RegionInfoNCELoss(nn.Module):
    """InfoNCE over matched query / key regions (ReSim, Eq. 2).

    For every valid query region, the positive is the key region of the same window of
    the same image; the negatives are every other valid key region of the batch: the
    other windows of the same key view and all windows of the other images, gathered
    from all ranks (keys carry no gradient). Invalid key regions are masked out, invalid
    query regions contribute nothing; the loss is the mean over the valid query regions
    of this rank, and exactly 0 (with zero, finite gradients) when it has none.

    With ``dense_keys`` (the reference's and the paper appendix's variant) the negatives
    are instead every position of the key feature maps average-pooled with a window-sized
    kernel at stride 1, of all images (of all ranks with ``gather``); the positive stays
    the pooled key region.

    Args:
        temperature (float): softmax temperature. Defaults to 0.2 (MoCo v2's).
        loss_weight (float): multiplier of the loss. Defaults to 1.0.
        gather (bool): take negatives from all ranks (the paper's C4 / P4); False keeps
            this rank's only (the paper's P3, appendix A.1). Defaults to True.
    """

    def __init__(self, temperature: float = 0.2, loss_weight: float = 1.0,
                 gather: bool = True) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature, self.loss_weight, self.gather = temperature, loss_weight, gather

    def forward(self, query: torch.Tensor, key: torch.Tensor, valid: torch.Tensor,
                dense_keys: Optional[torch.Tensor] = None
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Region loss of one feature level.

        Args:
            query (Tensor): (B, N, D) L2-normalised query-region embeddings.
            key (Tensor): (B, N, D) L2-normalised embeddings of the matching key regions.
            valid (Tensor): (B, N) bool, the window maps inside the key view.
            dense_keys (Tensor, optional): (B, D, h, w) L2-normalised pooled key-map
                positions, the negatives of the dense variant.

        Returns:
            tuple[Tensor]: the weighted loss (scalar, fp32) and this rank's number of
            valid regions (scalar).
        """
        query, key, valid = query.flatten(0, 1).float(), key.flatten(0, 1).float(), \
            valid.flatten()
        if dense_keys is None:
            keys, key_valid = key, valid
        else:
            keys = dense_keys.flatten(2).transpose(1, 2).flatten(0, 1).float()  # (B*h*w, D)
            key_valid = torch.ones(len(keys), dtype=torch.bool, device=keys.device)
        offset = 0
        if self.gather:  # every rank gathers, whether or not it has valid regions
            offset = get_rank() * len(keys)
            keys, key_valid = torch.cat(all_gather(keys)), torch.cat(all_gather(key_valid))
        num_valid = valid.sum()
        if not bool(num_valid):
            return query.sum() * 0., num_valid.float()
        query, keys = query[valid], keys.detach()
        if dense_keys is None:
            logits = (query @ keys.t()).masked_fill(~key_valid, float('-inf'))  # (M, R*B*N)
            positives = offset + valid.nonzero().squeeze(1)  # (M,) columns of the positives
        else:
            positive = (query * key[valid].detach()).sum(1, keepdim=True)  # (M, 1)
            logits = torch.cat([positive, query @ keys.t()], 1)  # (M, 1 + R*B*h*w)
            positives = torch.zeros(len(query), dtype=torch.long, device=query.device)
        loss = F.cross_entropy(logits / self.temperature, positives)
        return self.loss_weight * loss, num_valid.float()
