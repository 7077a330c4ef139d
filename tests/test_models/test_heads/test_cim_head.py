"""CIMHead: cross-entropy summed over exemplars, IoU metric, checked by hand."""
import math

import pytest
import torch

from mmssl_ext.models.heads import CIMHead


def test_loss_equals_hand_computation():
    # B = 1, N = 2, 1 x 2 pixels. Logits (background, exemplar) per pixel:
    logits = torch.tensor([[[[[0., 2.]], [[1., 0.]]],     # exemplar 0: pixels (0, 1), (2, 0)
                            [[[3., 0.]], [[0., 0.]]]]])   # exemplar 1: pixels (3, 0), (0, 0)
    maps = torch.tensor([[[[1, 0]], [[0, 0]]]])
    # -log softmax(z)[y] = log(e^z0 + e^z1) - z_y
    ex0 = ((math.log(1 + math.e) - 1) + (math.log(math.exp(2) + 1) - 2)) / 2
    ex1 = ((math.log(math.exp(3) + 1) - 3) + math.log(2)) / 2
    out = CIMHead(loss_weight=0.5).loss(logits, maps)
    assert out['loss'].item() == pytest.approx(0.5 * (ex0 + ex1), rel=1e-6)
    assert out['ce'].item() == pytest.approx((ex0 + ex1) / 2, rel=1e-6)


def test_loss_gradient_is_softmax_minus_onehot_per_exemplar():
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 2, 4, 5, requires_grad=True)
    maps = torch.randint(0, 2, (2, 3, 4, 5))
    CIMHead().loss(logits, maps)['loss'].backward()
    onehot = torch.stack([1 - maps, maps], dim=2).float()
    # each exemplar's term is a mean over B * H * W pixels; terms are summed
    expected = (logits.detach().softmax(dim=2) - onehot) / (2 * 4 * 5)
    torch.testing.assert_close(logits.grad, expected)


def test_iou_of_argmax_map():
    # 1 image, 2 exemplars, 2 x 2 pixels; channel 1 > channel 0 marks a predicted pixel
    predicted = torch.tensor([[[1, 1], [1, 0]], [[0, 0], [0, 0]]])
    maps = torch.tensor([[[[1, 0], [0, 1]], [[0, 0], [0, 0]]]])
    logits = torch.stack([torch.zeros(2, 2, 2), predicted.float()], dim=1)[None]
    logits[:, :, 1] -= 0.5  # exemplar score 0.5 where predicted, -0.5 elsewhere
    out = CIMHead().loss(logits, maps)
    # exemplar 0: intersection 1, union 4; exemplar 1: both empty -> 1
    assert out['iou'].item() == pytest.approx((1 / 4 + 1) / 2)


def test_location_prior_ce_is_out_of_sample_hand_computation():
    # M = 3 maps of 1 x 2 pixels; on a fresh head each is scored against
    # p = (count in the other two maps + 1) / (2 + 2) per pixel
    maps = torch.tensor([[[[1, 0]], [[1, 1]], [[0, 0]]]])  # (B=1, N=3, 1, 2)
    # map 0: p = (2/4, 2/4) -> -log(1/2), -log(1/2)
    # map 1: p = (2/4, 1/4) -> -log(1/2), -log(1/4)
    # map 2: p = (3/4, 2/4) -> -log(1/4), -log(1/2)
    expected = (4 * math.log(2) + 2 * math.log(4)) / 6
    head = CIMHead()
    out = head.loss(torch.zeros(1, 3, 2, 1, 2), maps)
    assert out['location_prior_ce'].item() == pytest.approx(expected, rel=1e-6)
    # a predictor that outputs that leave-one-out prior itself scores exactly as much
    others = maps.sum(dim=1, keepdim=True) - maps
    prior = (others + 1) / 4.
    logits = torch.stack([(1 - prior).log(), prior.log()], dim=2)
    assert CIMHead().loss(logits, maps)['ce'].item() == pytest.approx(expected, rel=1e-6)
    # the next batch is scored against the earlier maps: counts (2, 1) of 3 maps,
    # p = (3/5, 2/5) for a map [1, 1]
    out = head.loss(torch.zeros(1, 1, 2, 1, 2), torch.tensor([[[[1, 1]]]]))
    expected = -(math.log(3 / 5) + math.log(2 / 5)) / 2
    assert out['location_prior_ce'].item() == pytest.approx(expected, rel=1e-6)
    # a new map size starts a new count; the counts are not checkpointed
    out = head.loss(torch.zeros(1, 1, 2, 1, 1), torch.tensor([[[[1]]]]))
    assert out['location_prior_ce'].item() == pytest.approx(math.log(2), rel=1e-6)
    assert 'map_counts' not in head.state_dict()


def test_metrics_are_logged_not_summed():
    logits = torch.randn(2, 2, 2, 3, 3, requires_grad=True)
    out = CIMHead().loss(logits, torch.randint(0, 2, (2, 2, 3, 3)))
    assert [key for key in out if 'loss' in key] == ['loss']
    assert out['loss'].requires_grad
    assert not any(out[key].requires_grad for key in ('ce', 'iou', 'location_prior_ce'))


def test_shape_mismatch_and_bad_weight_are_reported():
    with pytest.raises(ValueError, match='correlation_maps'):
        CIMHead().loss(torch.randn(2, 3, 2, 4, 4), torch.zeros(2, 2, 4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match='loss_weight'):
        CIMHead(loss_weight=0.)
