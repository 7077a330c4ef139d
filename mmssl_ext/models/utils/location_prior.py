"""The cross-entropy of CIM's trivial answer: where exemplars tend to lie, not what."""
from typing import Optional

import torch


@torch.no_grad()
def location_prior_ce(maps: torch.Tensor, earlier_counts: Optional[torch.Tensor] = None,
                      num_earlier: int = 0) -> torch.Tensor:
    """Binary cross-entropy of a predictor that ignores the images and exemplars.

    Each map is scored against the per-pixel frequency of every OTHER map: the rest
    of ``maps`` (leave-one-out) and ``num_earlier`` earlier maps summed in
    ``earlier_counts``, Laplace-smoothed, ``p = (count + 1) / (others + 2)``. The
    prior is estimated out of sample, so it is what a location-only predictor would
    score on unseen maps.

    Args:
        maps (Tensor): (M, H, W) ground-truth maps in {0, 1}.
        earlier_counts (Tensor, optional): (H, W) sum of earlier maps.
        num_earlier (int): how many maps ``earlier_counts`` sums. Defaults to 0.

    Returns:
        Tensor: scalar, the mean over maps and pixels.
    """
    maps = maps.float()
    others = maps.sum(dim=0) - maps
    if earlier_counts is not None:
        others = others + earlier_counts
    prior = (others + 1) / (len(maps) - 1 + num_earlier + 2)
    # written out: F.binary_cross_entropy refuses to run under autocast
    return -(maps * prior.log() + (1 - maps) * (1 - prior).log()).mean()
