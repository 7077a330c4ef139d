"""PQCLHead: the three distillation losses equal hand computations; centres move."""
import torch

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS


def _head(**kwargs):
    return MODELS.build(dict(type='PQCLHead', out_channels=dict(cls=16, patch=16, query=16),
                             **kwargs))


def _ce(student, teacher, center, t_temp, s_temp=0.1):
    probs = torch.softmax((teacher - center) / t_temp, -1)
    return -(probs * torch.log_softmax(student / s_temp, -1)).sum(-1)


def test_cls_loss_matches_hand_computation():
    head = _head()
    center = torch.randn(1, 16)
    head['cls'].center.copy_(center)
    student, teacher = torch.randn(6, 16), torch.randn(6, 16)  # G=2, B=3, view-major
    terms = []
    for t in range(2):
        for s in range(2):
            if s != t:
                terms.append(sum(_ce(student[3 * s + b], teacher[3 * t + b], center, 0.05)
                                 for b in range(3)) / 3)
    expected = sum(terms) / 2
    assert torch.allclose(head.cls_loss(student, teacher, 2, 0.05), expected.squeeze(),
                          atol=1e-5)


def test_mim_loss_matches_hand_computation():
    head = _head()
    student, teacher = torch.randn(2, 3, 16), torch.randn(2, 3, 16)
    masks = torch.tensor([[True, False, True], [False, False, False]])
    center = head['patch'].center
    image0 = (_ce(student[0, 0], teacher[0, 0], center, 0.07)
              + _ce(student[0, 2], teacher[0, 2], center, 0.07)) / 2
    expected = (image0 + 0.) / 2  # the unmasked image counts as 0
    # the student's logits of the masked patches only, row-major
    assert torch.allclose(head.mim_loss(student[masks], teacher, masks, 0.07),
                          expected.squeeze(), atol=1e-5)


def test_query_loss_matches_hand_computation():
    head = _head()
    student = torch.randn(4, 3, 16)  # G=2 views x B=2, Lq=3
    teacher = torch.randn(2, 3, 16)  # B=2
    center = head['query'].center
    total = sum(_ce(student[g * 2 + b, i], teacher[b, i], center, 0.04)
                for g in range(2) for b in range(2) for i in range(3))
    assert torch.allclose(head.query_loss(student, teacher, 2, 0.04), (total / 12).squeeze(),
                          atol=1e-5)


def test_loss_weights_the_query_term_and_moves_the_centres_it_saw():
    head = _head(query_loss_weight=0.5, use_mim=False)
    assert set(head) == {'cls', 'query'}
    student = dict(cls=torch.randn(4, 16), query=torch.randn(4, 3, 16))
    teacher = dict(cls=torch.randn(4, 16), query=torch.randn(2, 3, 16))
    query_term = head.query_loss(student['query'], teacher['query'], 2, 0.04)
    losses = head.loss(student, teacher, None, 2, 0.04)
    assert set(losses) == {'loss_cls', 'loss_query'}
    torch.testing.assert_close(losses['loss_query'], 0.5 * query_term)
    momentum = 0.9  # CenteredDistillationLoss's default: c <- 0.9 c + 0.1 mean(t)
    torch.testing.assert_close(head['cls'].center[0], (1 - momentum) * teacher['cls'].mean(0))
    torch.testing.assert_close(head['query'].center[0],
                               (1 - momentum) * teacher['query'].flatten(0, 1).mean(0))
