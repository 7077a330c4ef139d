"""Weighted k-nearest-neighbour classification of frozen features (DINO's protocol)."""
from typing import Callable, Dict, Iterable, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F


def global_features(output: torch.Tensor) -> torch.Tensor:
    """One vector per image from a backbone output: (B, D) as is (ViT class token or
    pooled output), (B, C, H, W) feature maps (ResNet, ViT ``featmap``) averaged over
    H, W (global average pooling), as DINO's k-NN of a ResNet."""
    if output.dim() == 2:
        return output
    if output.dim() == 4:
        return output.mean((2, 3))
    raise ValueError(f'expected (B, D) features or (B, C, H, W) maps, got shape '
                     f'{tuple(output.shape)}')


@torch.no_grad()
def recompute_bn_stats(model: nn.Module, batches: Iterable[torch.Tensor],
                       forward: Callable[[torch.Tensor], object] = None) -> int:
    """Replace the running statistics of every BatchNorm layer of ``model`` by their
    average over ``batches`` (train-mode forwards, no gradients; "precise BN").

    A randomly initialised ResNet has running means 0 and variances 1, so in eval mode
    its BN layers are identities, while a pre-trained one normalises with statistics
    of its data: recompute both on the same images before comparing them.

    Args:
        model (nn.Module): left in eval mode.
        batches (Iterable[Tensor]): (B, 3, H, W) inputs.
        forward (callable, optional): how to run ``model`` on a batch. Defaults to
            ``model``.

    Returns:
        int: number of BatchNorm layers updated.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batches
    model.train()
    for batch in batches:
        (forward or model)(batch)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
    model.eval()
    return len(norms)


def knn_scores(train_features: torch.Tensor, train_labels: torch.Tensor,
               test_features: torch.Tensor, num_classes: int, k: int = 20,
               temperature: float = 0.07, chunk_size: int = 256) -> torch.Tensor:
    """Class votes of the k most cosine-similar training samples, weighted by
    ``exp(similarity / temperature)``.

    Args:
        train_features (Tensor): (N, D) training features (L2-normalised here).
        train_labels (Tensor): (N,) long class indices.
        test_features (Tensor): (M, D) test features (L2-normalised here).
        num_classes (int): C.
        k (int): neighbours, 1 <= k <= N. Defaults to 20.
        temperature (float): vote temperature. Defaults to 0.07.
        chunk_size (int): test samples per similarity matrix. Defaults to 256.

    Returns:
        Tensor: (M, C) votes.
    """
    if not 1 <= k <= len(train_features):
        raise ValueError(f'k must be in [1, {len(train_features)}] (training samples), '
                         f'got {k}')
    train = F.normalize(train_features.float(), dim=1)
    test = F.normalize(test_features.float(), dim=1)
    votes = []
    for chunk in test.split(chunk_size):
        similarity, index = (chunk @ train.t()).topk(k, dim=1)  # (c, k)
        weights = (similarity / temperature).exp()
        votes.append(torch.zeros(len(chunk), num_classes, device=chunk.device).scatter_add_(
            1, train_labels[index], weights))
    return torch.cat(votes)


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor,
                  topk: Sequence[int] = (1, 5)) -> Dict[str, float]:
    """Top-k accuracies in percent of (M, C) scores against (M,) labels."""
    ranked = scores.topk(min(max(topk), scores.shape[1]), dim=1).indices
    hits = ranked == labels[:, None]
    return {f'top{k}': 100. * hits[:, :k].any(1).float().mean().item() for k in topk}
