"""CIM loss: per-pixel cross-entropy between predicted and true correlation maps."""
from typing import Dict

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmssl_ext.registry import MODELS
from ..utils.location_prior import location_prior_ce


@MODELS.register_module()
class CIMHead(BaseModule):
    """Cross-entropy loss of CIM's correlation maps (paper Eq. 7, Table 3: plain CE).

    For exemplar n: the 2-class softmax cross-entropy of every context pixel, averaged
    over pixels and images. The loss is ``loss_weight`` times the SUM of these terms over
    the N exemplars (the reference adds one CE per exemplar).

    Logged alongside, under keys without "loss" so mmengine does not add them to the
    total: ``ce``, the per-exemplar term averaged over exemplars, and ``iou``, the mean
    over (image, exemplar) pairs of the intersection-over-union between the argmax map
    and the ground truth (a pair with both maps empty counts as 1), and
    ``location_prior_ce``, the per-exemplar cross-entropy a location-only predictor
    scores on the same maps, its prior counted over the run's earlier maps
    (:meth:`location_prior_ce`): ``ce`` at or above it means the decoder has learned
    no more than where exemplars tend to lie.

    Args:
        loss_weight (float): weight of the summed cross-entropy. Defaults to 1.0.
        init_cfg (dict, optional): mmengine initialisation config.
    """

    def __init__(self, loss_weight: float = 1.0, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if loss_weight <= 0:
            raise ValueError(f'loss_weight must be positive, got {loss_weight}')
        self.loss_weight = loss_weight
        self.map_counts = None  # (H, W) counts of the maps seen; not a buffer: no
        self.maps_seen = 0      # checkpoint key, nothing for DDP to broadcast

    def loss(self, logits: torch.Tensor,
             correlation_maps: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Compute the loss and the logged metrics.

        Args:
            logits (Tensor): (B, N, 2, H, W) predicted logits (background, exemplar).
            correlation_maps (Tensor): (B, N, H, W) long ground truth in {0, 1}.

        Returns:
            dict[str, Tensor]: ``loss`` (scalar, with gradient), ``ce`` and ``iou``
            (detached scalars).
        """
        batch, num_exemplars, _, height, width = logits.shape
        if correlation_maps.shape != (batch, num_exemplars, height, width):
            raise ValueError(f'correlation_maps of shape {tuple(correlation_maps.shape)} do '
                             f'not match logits of shape {tuple(logits.shape)}')
        pixel_ce = F.cross_entropy(logits.float().transpose(1, 2), correlation_maps,
                                   reduction='none')  # (B, N, H, W)
        exemplar_ce = pixel_ce.mean(dim=(0, 2, 3))  # (N,)
        with torch.no_grad():
            predicted = logits.argmax(dim=2).bool()
            target = correlation_maps.bool()
            intersection = (predicted & target).sum(dim=(2, 3))
            union = (predicted | target).sum(dim=(2, 3))
            iou = torch.where(union > 0, intersection / union.clamp(min=1), 1.)
        losses = dict(loss=self.loss_weight * exemplar_ce.sum(),
                      ce=exemplar_ce.detach().mean(),
                      iou=iou.mean())
        losses['location_prior_ce'] = self.location_prior_ce(correlation_maps)
        return losses

    @torch.no_grad()
    def location_prior_ce(self, correlation_maps: torch.Tensor) -> torch.Tensor:
        """:func:`location_prior_ce` of the batch's (B, N, H, W) maps, its prior
        counted over every other map this head has seen (the earlier batches' and
        the rest of this one), then this batch added to the counts."""
        maps = correlation_maps.flatten(0, 1)  # (M, H, W)
        if (self.map_counts is None or self.map_counts.shape != maps.shape[1:]
                or self.map_counts.device != maps.device):
            self.map_counts = maps.new_zeros(maps.shape[1:], dtype=torch.float)
            self.maps_seen = 0
        prior_ce = location_prior_ce(maps, self.map_counts, self.maps_seen)
        self.map_counts += maps.sum(dim=0)
        self.maps_seen += len(maps)
        return prior_ce
