"""Linear probe of frozen features: multinomial logistic regression, full-batch L-BFGS."""
from typing import NamedTuple, Sequence

import torch
import torch.nn.functional as F


class LinearProbe(NamedTuple):
    """A linear classifier on standardised features: ``scores(x) = ((x - mean) / std)
    @ weight + bias``; weight (D, C), bias (C,), mean / std (D,)."""
    weight: torch.Tensor
    bias: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    weight_decay: float

    def scores(self, features: torch.Tensor) -> torch.Tensor:
        """(M, C) class scores of (M, D) features."""
        return ((features.float() - self.mean) / self.std) @ self.weight + self.bias


def probe_objective(weight: torch.Tensor, bias: torch.Tensor, inputs: torch.Tensor,
                    labels: torch.Tensor, weight_decay: float) -> torch.Tensor:
    """Mean cross-entropy of ``inputs @ weight + bias`` plus ``weight_decay / 2 *
    ||weight||^2`` (the bias is not penalised): strictly convex in the weight."""
    return (F.cross_entropy(inputs @ weight + bias, labels)
            + 0.5 * weight_decay * weight.pow(2).sum())


def fit_linear_probe(features: torch.Tensor, labels: torch.Tensor, num_classes: int,
                     weight_decay: float = 1e-4, max_iter: int = 300) -> LinearProbe:
    """Minimise :func:`probe_objective` on standardised (N, D) features (z-scored with
    their own mean and standard deviation) with full-batch L-BFGS (strong Wolfe line
    search) from zero weights: deterministic, no learning rate or epochs to tune.

    Args:
        features (Tensor): (N, D) frozen training features.
        labels (Tensor): (N,) long class indices in [0, num_classes).
        num_classes (int): C.
        weight_decay (float): L2 weight of the objective. Defaults to 1e-4.
        max_iter (int): L-BFGS iterations. Defaults to 300.
    """
    if weight_decay <= 0:
        raise ValueError(f'weight_decay must be > 0, got {weight_decay}')
    features = features.float()
    mean, std = features.mean(0), features.std(0).clamp_min(1e-6)
    inputs = (features - mean) / std
    weight = torch.zeros(inputs.shape[1], num_classes, requires_grad=True)
    bias = torch.zeros(num_classes, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=max_iter, history_size=20,
                                  tolerance_grad=1e-9, tolerance_change=1e-12,
                                  line_search_fn='strong_wolfe')

    def closure():
        optimizer.zero_grad()
        loss = probe_objective(weight, bias, inputs, labels, weight_decay)
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    return LinearProbe(weight.detach(), bias.detach(), mean, std, weight_decay)


def linear_probe_scores(train_features: torch.Tensor, train_labels: torch.Tensor,
                        test_features: torch.Tensor, num_classes: int,
                        weight_decays: Sequence[float] = (1e-5, 1e-4, 1e-3, 1e-2),
                        holdout_every: int = 5) -> tuple:
    """Scores of a linear probe whose L2 weight is chosen on the training set alone.

    Every ``holdout_every``-th training sample is held out; the weight decay with the
    best held-out top-1 (the smallest on ties) is refit on all training samples, which
    then scores the test samples. The test set plays no part in the choice.

    Returns:
        tuple: (M, C) test scores and the :class:`LinearProbe` used.
    """
    held_out = torch.arange(len(train_labels)) % holdout_every == 0
    best, best_accuracy = None, -1.
    for weight_decay in sorted(weight_decays):
        probe = fit_linear_probe(train_features[~held_out], train_labels[~held_out],
                                 num_classes, weight_decay)
        predictions = probe.scores(train_features[held_out]).argmax(1)
        accuracy = (predictions == train_labels[held_out]).float().mean().item()
        if accuracy > best_accuracy:
            best, best_accuracy = weight_decay, accuracy
    probe = fit_linear_probe(train_features, train_labels, num_classes, best)
    return probe.scores(test_features), probe
