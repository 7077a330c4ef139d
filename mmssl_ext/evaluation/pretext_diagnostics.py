"""Whether a pretext-task picture shows the method working, as numbers.

Each visualiser (``tools/visualization/vis_{cim,cae,pqcl}.py``) prints one of these
next to its picture, against the trivial answer the picture could also come from:

* CIM (:func:`exemplar_specificity`): does each exemplar's predicted correlation map
  match its own ground truth better than the other exemplars' predicted maps do? A
  location prior (the same blob for every exemplar) scores a gap of 0. And is its
  cross-entropy below that of the best location-only predictor?
* CAE (:func:`masked_patch_errors`): is the reconstruction of the masked patches
  better than pasting the mean visible patch into every hole?
* PQCL (:func:`attention_concentration`): does the query tokens' attention fall on
  the queried region more than uniform attention would?
"""
from typing import Dict

import torch
import torch.nn.functional as F

from mmssl_ext.models.utils import location_prior_ce


def pairwise_soft_iou(probs: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
    """Soft IoU of every predicted map with every ground-truth map of the same image.

    ``IoU(p, g) = sum(p * g) / sum(p + g - p * g)`` over pixels: the Jaccard index
    of binary maps, extended to probabilities ``p`` in [0, 1] (no threshold).

    Args:
        probs (Tensor): (B, N, H, W) predicted probabilities of "exemplar here".
        maps (Tensor): (B, N, H, W) ground-truth maps in {0, 1}.

    Returns:
        Tensor: (B, N, N) float; entry [b, i, j] is prediction i against truth j.
    """
    probs, maps = probs.flatten(2).float(), maps.flatten(2).float()
    intersection = probs @ maps.transpose(1, 2)  # (B, N, N)
    union = probs.sum(-1)[:, :, None] + maps.sum(-1)[:, None, :] - intersection
    return intersection / union.clamp_min(1e-6)


def exemplar_specificity(probs: torch.Tensor, maps: torch.Tensor) -> Dict[str, float]:
    """How much CIM's predicted maps follow their own exemplar.

    For every ground-truth map ``j`` of an image: ``own`` = soft IoU of prediction
    ``j`` with it, ``others`` = mean soft IoU of the other N - 1 predictions with it.

    Args:
        probs (Tensor): (B, N, H, W) predicted probabilities, N >= 2.
        maps (Tensor): (B, N, H, W) ground-truth maps in {0, 1}.

    Returns:
        dict[str, float]: ``own_iou`` and ``others_iou`` (means over all B*N
        exemplars), ``gap`` (their difference: 0 for a location prior, at most
        ``1 - gt_overlap``), ``top1`` (fraction of exemplars whose own prediction
        matches their truth strictly best; ``chance`` = 1 / N for unrelated maps,
        0 for identical ones), ``gt_overlap`` (mean IoU between different
        exemplars' truths: what ``others_iou`` would be for perfect predictions),
        ``ce`` (the predictions' per-pixel binary cross-entropy, the training loss
        per exemplar) and ``location_prior_ce`` (:func:`location_prior_ce` of the
        maps: ``ce`` no lower means nothing learned beyond where exemplars lie).
    """
    num = probs.shape[1]
    if num < 2 or probs.shape != maps.shape:
        raise ValueError(f'need (B, N >= 2, H, W) probs and maps of the same shape, got '
                         f'{tuple(probs.shape)} and {tuple(maps.shape)}')
    scores = pairwise_soft_iou(probs, maps)  # (B, N_pred, N_truth)
    own = scores.diagonal(dim1=1, dim2=2)  # (B, N)
    off_diagonal = ~torch.eye(num, dtype=torch.bool, device=scores.device)
    others = scores.masked_fill(~off_diagonal, 0).sum(1) / (num - 1)
    best_other = scores.masked_fill(~off_diagonal, -1).amax(1)
    truth_overlap = pairwise_soft_iou(maps, maps)[:, off_diagonal].mean()
    ce = F.binary_cross_entropy(probs.float(), maps.float())
    return dict(own_iou=own.mean().item(), others_iou=others.mean().item(),
                gap=(own - others).mean().item(), top1=(own > best_other).float().mean().item(),
                chance=1 / num, gt_overlap=truth_overlap.item(), ce=ce.item(),
                location_prior_ce=location_prior_ce(maps.flatten(0, 1)).item())


def masked_patch_errors(predictions: torch.Tensor, targets: torch.Tensor,
                        mask: torch.Tensor) -> Dict[str, float]:
    """Reconstruction error of the masked patches against trivial predictions.

    All in the space of the training targets (e.g. per-patch normalised pixels).

    Args:
        predictions (Tensor): (B, Nm, D) predictions of the masked patches, in the
            raster order of ``mask``.
        targets (Tensor): (B, N, D) targets of ALL patches.
        mask (Tensor): (B, N) bool, True = masked; the same count in every row.

    Returns:
        dict[str, float]: mean squared errors over the masked patches of
        ``model``, ``mean_visible`` (every hole filled with the image's mean visible
        target) and ``zeros`` (the mean of a per-patch normalised target), and
        ``ratio`` = model / mean_visible (< 1: better than the trivial fill).
    """
    batch, _, dims = targets.shape
    masked = targets[mask].view(batch, -1, dims)
    visible = targets[~mask].view(batch, -1, dims)
    fill = visible.mean(1, keepdim=True).expand_as(masked)
    model = (predictions.float() - masked).pow(2).mean().item()
    baseline = (fill - masked).pow(2).mean().item()
    return dict(model=model, mean_visible=baseline, zeros=masked.pow(2).mean().item(),
                ratio=model / max(baseline, 1e-12))


def attention_concentration(attention: torch.Tensor,
                            region: torch.Tensor) -> Dict[str, float]:
    """Share of attention that falls on a region, against uniform attention.

    Args:
        attention (Tensor): (Q, L) attention weights of Q query rows over L
            positions (renormalised over the L positions here).
        region (Tensor): (L, ) bool, the positions of the queried region.

    Returns:
        dict[str, float]: ``inside`` (mean share of a row's attention on the
        region), ``uniform`` (the region's share of the positions: what uniform
        attention gives) and ``lift`` = inside / uniform (1 = no concentration).
    """
    if not region.any():
        raise ValueError('the region covers none of the positions')
    weights = attention.float() / attention.float().sum(-1, keepdim=True)
    inside = weights[:, region].sum(-1).mean().item()
    uniform = region.float().mean().item()
    return dict(inside=inside, uniform=uniform, lift=inside / uniform)
