"""CAEPretrainHead: both loss terms against hand computations; the target is detached."""
import math

import pytest
import torch

from mmssl_ext.models.heads import CAEPretrainHead


def test_token_loss_and_alignment_by_hand():
    head = CAEPretrainHead(target='tokens', align_weight=2.0)
    logits = torch.tensor([[[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]]])  # (1, 2, 3)
    tokens = torch.tensor([[0, 2]])
    latent = torch.tensor([[[1.0, 2.0], [0.0, -1.0]]])
    target = torch.tensor([[[0.0, 2.0], [1.0, 1.0]]])
    losses = head.loss(logits, tokens, latent, target)

    def nll(row, label):
        return -(row[label] - math.log(sum(math.exp(v) for v in row)))

    expected_ce = (nll([2.0, 0.0, -1.0], 0) + nll([0.5, 0.5, 0.0], 2)) / 2
    assert losses['loss_main'].item() == pytest.approx(expected_ce, rel=1e-6)
    expected_align = 2.0 * (1.0 + 0.0 + 1.0 + 4.0) / 4
    assert losses['loss_align'].item() == pytest.approx(expected_align, rel=1e-6)
    assert losses['mim_acc'].item() == pytest.approx(0.5)  # first right, second wrong


def test_pixel_loss_by_hand_and_no_gradient_to_the_alignment_target():
    head = CAEPretrainHead(target='pixels', align_weight=0.5)
    predictions = torch.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    pixels = torch.tensor([[[0.0, 2.0, 5.0]]])
    latent = torch.tensor([[[1.0, 1.0]]], requires_grad=True)
    target = torch.tensor([[[3.0, 1.0]]], requires_grad=True)
    losses = head.loss(predictions, pixels, latent, target)
    assert losses['loss_main'].item() == pytest.approx((1 + 0 + 4) / 3)
    assert losses['loss_align'].item() == pytest.approx(0.5 * (4 + 0) / 2)
    assert set(losses) == {'loss_main', 'loss_align'}
    (losses['loss_main'] + losses['loss_align']).backward()
    assert target.grad is None
    torch.testing.assert_close(latent.grad, torch.tensor([[[-1.0, 0.0]]]))


@pytest.mark.parametrize('kwargs,name', [(dict(target='hog'), 'target'),
                                         (dict(align_weight=-1.), 'align_weight')])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        CAEPretrainHead(**kwargs)
