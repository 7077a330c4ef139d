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


def test_metrics_are_logged_not_summed():
    logits = torch.randn(2, 2, 2, 3, 3, requires_grad=True)
    out = CIMHead().loss(logits, torch.randint(0, 2, (2, 2, 3, 3)))
    assert [key for key in out if 'loss' in key] == ['loss']
    assert out['loss'].requires_grad
    assert not out['ce'].requires_grad and not out['iou'].requires_grad


def test_shape_mismatch_and_bad_weight_are_reported():
    with pytest.raises(ValueError, match='correlation_maps'):
        CIMHead().loss(torch.randn(2, 3, 2, 4, 4), torch.zeros(2, 2, 4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match='loss_weight'):
        CIMHead(loss_weight=0.)
