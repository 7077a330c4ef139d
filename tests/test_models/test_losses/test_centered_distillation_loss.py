"""CenteredDistillationLoss: CE formula and centre update."""
import math

import torch

from mmssl_ext.models.losses import CenteredDistillationLoss


def test_cross_entropy_matches_hand_computation():
    loss = CenteredDistillationLoss(3, student_temp=0.5)
    loss.center.copy_(torch.tensor([[0.1, -0.2, 0.3]]))
    teacher = torch.tensor([[1., 0., 2.]])
    student = torch.tensor([[0.5, 1., -1.]])
    probs = loss.teacher_probs(teacher, teacher_temp=0.25)
    t = [(v - c) / 0.25 for v, c in zip([1., 0., 2.], [0.1, -0.2, 0.3])]
    p = [math.exp(v) / sum(math.exp(u) for u in t) for v in t]
    assert torch.allclose(probs, torch.tensor([p]), atol=1e-6)
    s = [v / 0.5 for v in [0.5, 1., -1.]]
    log_z = math.log(sum(math.exp(v) for v in s))
    expected = -sum(pi * (si - log_z) for pi, si in zip(p, s))
    assert torch.allclose(loss(student, probs), torch.tensor([expected]), atol=1e-6)


def test_center_update_follows_the_ema_formula():
    loss = CenteredDistillationLoss(2, center_momentum=0.9)
    loss.center.fill_(1.)
    teacher = torch.tensor([[[0., 2.], [4., 6.]], [[2., 2.], [2., 2.]]])  # mean (2, 3)
    loss.update_center(teacher)
    assert torch.allclose(loss.center, torch.tensor([[0.9 + 0.1 * 2, 0.9 + 0.1 * 3]]))
