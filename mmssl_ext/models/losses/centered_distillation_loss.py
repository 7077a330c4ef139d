"""DINO / iBOT self-distillation cross-entropy with a centred, sharpened teacher."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import dist

from mmssl_ext.registry import MODELS


@MODELS.register_module()
class CenteredDistillationLoss(nn.Module):
    """Per-token cross-entropy between a centred teacher and a student, and its centre.

    ``p_t = softmax((t - c) / tau_t)``, ``CE = -sum_k p_t * log_softmax(s / tau_s)``.
    After each step the centre moves towards the mean teacher logit of the global
    batch: ``c <- m * c + (1 - m) * mean(t)``, the mean taken over every token of
    every rank (sums and counts all-reduced).

    Args:
        out_channels (int): K.
        student_temp (float): tau_s. Defaults to 0.1.
        center_momentum (float): m. Defaults to 0.9.
    """

    def __init__(self, out_channels: int, student_temp: float = 0.1,
                 center_momentum: float = 0.9) -> None:
        super().__init__()
        if student_temp <= 0 or not 0. <= center_momentum <= 1.:
            raise ValueError(f'need student_temp > 0 and center_momentum in [0, 1], got '
                             f'{student_temp} and {center_momentum}')
        self.student_temp, self.center_momentum = student_temp, center_momentum
        self.register_buffer('center', torch.zeros(1, out_channels))

    def teacher_probs(self, teacher_logits: torch.Tensor, teacher_temp: float) -> torch.Tensor:
        """(..., K) teacher logits -> (..., K) centred, sharpened probabilities."""
        return F.softmax((teacher_logits.float() - self.center) / teacher_temp, dim=-1)

    def forward(self, student_logits: torch.Tensor,
                teacher_probs: torch.Tensor) -> torch.Tensor:
        """(..., K) student logits and teacher probabilities -> (...) cross-entropy."""
        log_probs = F.log_softmax(student_logits.float() / self.student_temp, dim=-1)
        return -(teacher_probs * log_probs).sum(-1)

    @torch.no_grad()
    def update_center(self, teacher_logits: torch.Tensor) -> None:
        """EMA of the centre towards the mean of (..., K) teacher logits on all ranks."""
        flat = teacher_logits.detach().float().reshape(-1, teacher_logits.shape[-1])
        stats = torch.cat([flat.sum(0), flat.new_tensor([len(flat)])])
        dist.all_reduce(stats, op='sum')
        batch_center = stats[:-1] / stats[-1]
        self.center.mul_(self.center_momentum).add_(batch_center * (1 - self.center_momentum))
