"""The pretext-picture diagnostics against hand computations."""
import math

import pytest
import torch

from mmssl_ext.evaluation import (attention_concentration, exemplar_specificity,
                                  masked_patch_errors, pairwise_soft_iou)


def _one_row(*rows):
    """(1, N, 1, W) maps from N lists of W values."""
    return torch.tensor(rows, dtype=torch.float)[None, :, None, :]


def test_soft_iou_matrix_by_hand():
    probs = _one_row([1, .5, 0], [0, .5, 1])
    maps = _one_row([1, 1, 0], [0, 0, 1])
    # p0 vs g0: (1 + .5) / (1.5 + 2 - 1.5); p1 vs g0: .5 / (1.5 + 2 - .5);
    # p0 vs g1: 0 / 2.5; p1 vs g1: 1 / (1.5 + 1 - 1)
    expected = torch.tensor([[.75, 0.], [1 / 6, 2 / 3]])
    torch.testing.assert_close(pairwise_soft_iou(probs, maps)[0], expected)


def test_soft_iou_equals_a_pixel_loop():
    probs, maps = torch.rand(2, 3, 4, 5), torch.rand(2, 3, 4, 5) > .5
    scores = pairwise_soft_iou(probs, maps)
    for b in range(2):
        for i in range(3):
            for j in range(3):
                p, g = probs[b, i].flatten().tolist(), maps[b, j].flatten().float().tolist()
                inter = sum(x * y for x, y in zip(p, g))
                union = sum(x + y - x * y for x, y in zip(p, g))
                assert scores[b, i, j].item() == pytest.approx(inter / union, rel=1e-5)


def test_specificity_by_hand():
    result = exemplar_specificity(_one_row([1, .5, 0], [0, .5, 1]),
                                  _one_row([1, 1, 0], [0, 0, 1]))
    assert result['own_iou'] == pytest.approx((.75 + 2 / 3) / 2)
    assert result['others_iou'] == pytest.approx((1 / 6 + 0) / 2)
    assert result['gap'] == pytest.approx((.75 + 2 / 3) / 2 - 1 / 12)
    assert result['top1'] == 1 and result['chance'] == .5 and result['gt_overlap'] == 0
    # cross-entropy: the two 0.5 pixels cost ln 2 each, the four exact ones ~0
    assert result['ce'] == pytest.approx(math.log(2) / 3, rel=1e-5)
    # location prior, leave-one-out: each map is scored against the other,
    # p = (count + 1) / 3, which puts 1/3 on every true value of the six pixels
    assert result['location_prior_ce'] == pytest.approx(math.log(3), rel=1e-6)


def test_location_prior_scores_no_specificity():
    maps = _one_row([1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1])
    prior = _one_row(*[[.2, .9, .9, .2]] * 3)
    result = exemplar_specificity(prior, maps)
    assert result['gap'] == pytest.approx(0, abs=1e-7) and result['top1'] == 0
    assert result['own_iou'] == pytest.approx(result['others_iou'])


def test_perfect_and_swapped_predictions():
    maps = _one_row([1, 0, 0], [0, 1, 0], [0, 0, 1])
    perfect = exemplar_specificity(maps, maps)
    assert (perfect['own_iou'], perfect['others_iou'], perfect['top1']) == (1, 0, 1)
    swapped = exemplar_specificity(maps.roll(1, dims=1), maps)
    # each truth is matched by exactly one of the two other predictions
    assert (swapped['own_iou'], swapped['others_iou'], swapped['top1']) == (0, .5, 0)
    assert swapped['gap'] == -.5


def test_specificity_needs_two_exemplars():
    with pytest.raises(ValueError, match='N >= 2'):
        exemplar_specificity(torch.rand(1, 1, 2, 2), torch.ones(1, 1, 2, 2))


def test_masked_patch_errors_by_hand():
    targets = torch.tensor([[[1., 1.], [3., 3.], [2., 0.]]])
    mask = torch.tensor([[False, True, True]])
    predictions = torch.tensor([[[3., 2.], [2., 0.]]])
    result = masked_patch_errors(predictions, targets, mask)
    assert result['model'] == pytest.approx(1 / 4)  # one value off by 1
    assert result['mean_visible'] == pytest.approx((4 + 4 + 1 + 1) / 4)  # fill [1, 1]
    assert result['zeros'] == pytest.approx((9 + 9 + 4 + 0) / 4)
    assert result['ratio'] == pytest.approx(.1)


def test_attention_concentration_by_hand():
    attention = torch.tensor([[1., 1., 0., 2.], [0., 1., 1., 0.]])
    result = attention_concentration(attention, torch.tensor([True, False, False, False]))
    assert result['inside'] == pytest.approx((1 / 4 + 0) / 2)
    assert result['uniform'] == .25 and result['lift'] == pytest.approx(.5)
    uniform = attention_concentration(torch.ones(3, 8), torch.arange(8) < 3)
    assert uniform['lift'] == pytest.approx(1)
    with pytest.raises(ValueError, match='region'):
        attention_concentration(attention, torch.zeros(4, dtype=torch.bool))
