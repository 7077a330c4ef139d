"""Linear probe of frozen features (multinomial logistic regression)."""
import numpy as np
import pytest
import torch

from mmssl_ext.evaluation import fit_linear_probe, linear_probe_scores, probe_objective


def _blobs(num_per_class=60, dim=5, num_classes=3, spread=1.5, seed=0):
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_classes, dim, generator=generator) * spread
    labels = torch.arange(num_classes).repeat_interleave(num_per_class)
    features = centres[labels] + torch.randn(len(labels), dim, generator=generator)
    return features * torch.linspace(0.5, 20., dim) + 3., labels  # unequal feature scales


def test_solution_satisfies_the_optimality_condition():
    """The objective is convex: a zero gradient, computed here by hand in float64 numpy
    (softmax - one-hot), certifies the global minimum."""
    features, labels = _blobs()
    weight_decay = 1e-2
    probe = fit_linear_probe(features, labels, 3, weight_decay)
    x = ((features - probe.mean) / probe.std).double().numpy()
    w, b = probe.weight.double().numpy(), probe.bias.double().numpy()
    logits = x @ w + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    residual = p - np.eye(3)[labels.numpy()]
    grad_w = x.T @ residual / len(x) + weight_decay * w
    grad_b = residual.mean(0)
    assert np.abs(grad_w).max() < 1e-4 and np.abs(grad_b).max() < 1e-4
    # standardised with the training set's own statistics
    np.testing.assert_allclose(x.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(0, ddof=1), 1, atol=1e-4)
    # nothing lower around it
    best = probe_objective(probe.weight, probe.bias, torch.from_numpy(x).float(), labels,
                           weight_decay)
    for _ in range(5):
        nudged = probe.weight + 1e-2 * torch.randn_like(probe.weight)
        assert probe_objective(nudged, probe.bias, torch.from_numpy(x).float(), labels,
                               weight_decay) > best


def test_separable_classes_are_recovered_and_scale_does_not_matter():
    features, labels = _blobs(spread=8.)  # even samples train, odd ones test
    scores, probe = linear_probe_scores(features[::2], labels[::2], features[1::2], 3)
    assert (scores.argmax(1) == labels[1::2]).all()  # well-separated blobs: 100 %
    assert probe.weight_decay in (1e-5, 1e-4, 1e-3, 1e-2)
    # features are standardised: a per-dimension affine change gives the same classifier.
    # Compared at a weight decay whose optimum is well conditioned: at 1e-5 these
    # separable classes leave the logits growing along a flat valley, where L-BFGS's
    # stopping point moves with float rounding (0.14 apart on one CPU, within 1e-3 on
    # another); the same classes come out either way.
    rescaled, _ = linear_probe_scores(features[::2] * 7. - 2., labels[::2],
                                      features[1::2] * 7. - 2., 3)
    assert (rescaled.argmax(1) == scores.argmax(1)).all()
    conditioned, _ = linear_probe_scores(features[::2], labels[::2], features[1::2], 3,
                                         weight_decays=(1e-3,))
    rescaled, _ = linear_probe_scores(features[::2] * 7. - 2., labels[::2],
                                      features[1::2] * 7. - 2., 3, weight_decays=(1e-3,))
    torch.testing.assert_close(rescaled, conditioned, atol=1e-4, rtol=1e-4)


def test_bad_weight_decay_is_named():
    with pytest.raises(ValueError, match='weight_decay'):
        fit_linear_probe(torch.randn(4, 2), torch.tensor([0, 1, 0, 1]), 2, weight_decay=0.)
