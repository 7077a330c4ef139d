"""PQCL's losses: DINO class-token, iBOT masked-patch and positional-query distillation."""
from typing import Dict, Optional

import torch
import torch.nn as nn

from mmssl_ext.registry import MODELS

TOKEN_KINDS = ('cls', 'patch', 'query')


@MODELS.register_module()
class PQCLHead(nn.ModuleDict):
    """The three self-distillation losses of PQCL, one centred loss per token kind.

    Holds one ``loss`` module (:class:`CenteredDistillationLoss`: teacher probabilities
    ``softmax((t - c) / tau_t)``, student ``log_softmax(s / tau_s)``, its own centre c)
    per kind, under the keys ``'cls'``, ``'patch'`` (with ``use_mim``) and ``'query'``:

    - ``loss_cls`` (DINO): class tokens, mean of the G (G - 1) cross-view pairs, each
      averaged over the batch;
    - ``loss_mim`` (iBOT): same view, patch tokens; per image the CE summed over masked
      patches / max(1, #masked), averaged over the batch (unmasked images count 0) and
      the G views;
    - ``loss_query``: for every global view, the CE between the teacher's patch
      distribution of the query crop and the student's query tokens, averaged over
      tokens, crops, batch and views; times ``query_loss_weight``.

    Each loss present in the teacher outputs moves its centre after the step.

    Args:
        out_channels (dict[str, int]): K of each kind's projection head.
        loss (dict): per-kind loss config (``out_channels`` is filled in). Defaults to
            ``CenteredDistillationLoss`` with ``student_temp=0.1, center_momentum=0.9``.
        use_mim (bool): with the masked-patch loss. Defaults to True.
        query_loss_weight (float): lambda. Defaults to 1.
    """

    def __init__(self,
                 out_channels: Dict[str, int],
                 loss: dict = dict(type='CenteredDistillationLoss', student_temp=0.1,
                                   center_momentum=0.9),
                 use_mim: bool = True,
                 query_loss_weight: float = 1.0) -> None:
        kinds = [kind for kind in TOKEN_KINDS if kind != 'patch' or use_mim]
        super().__init__({kind: MODELS.build(dict(loss, out_channels=out_channels[kind]))
                          for kind in kinds})
        self.query_loss_weight = query_loss_weight

    def loss(self, student: Dict[str, torch.Tensor], teacher: Dict[str, torch.Tensor],
             masks: Optional[torch.Tensor], num_views: int,
             teacher_temp: float) -> Dict[str, torch.Tensor]:
        """The losses of a batch, then the centre updates.

        Args:
            student (dict[str, Tensor]): ``cls`` (G*B, K) view-major class logits,
                ``patch`` (M, K) logits of the M masked patches (``masks``' True
                entries, row-major), ``query`` (G*B, Lq, K) query logits (the last two
                when computed).
            teacher (dict[str, Tensor]): the same kinds: ``cls`` (G*B, K), ``patch``
                (G*B, L, K), ``query`` (B, Lq, K) logits of the query crops' patches.
            masks (Tensor, optional): (G*B, L) bool, True = masked (for ``patch``).
            num_views (int): G.
            teacher_temp (float): tau_t.

        Returns:
            dict[str, Tensor]: ``loss_cls``, ``loss_mim`` and ``loss_query`` (weighted)
            for the kinds in ``student``.
        """
        losses = dict(loss_cls=self.cls_loss(student['cls'], teacher['cls'], num_views,
                                             teacher_temp))
        if 'patch' in student:
            losses['loss_mim'] = self.mim_loss(student['patch'], teacher['patch'], masks,
                                               teacher_temp)
        if 'query' in student:
            losses['loss_query'] = self.query_loss_weight * self.query_loss(
                student['query'], teacher['query'], num_views, teacher_temp)
        for kind, criterion in self.items():
            if kind in teacher:
                criterion.update_center(teacher[kind])
        return losses

    def cls_loss(self, student: torch.Tensor, teacher: torch.Tensor, num_views: int,
                 teacher_temp: float) -> torch.Tensor:
        """(G*B, K) view-major class logits -> mean CE over cross-view pairs."""
        criterion = self['cls']
        probs = criterion.teacher_probs(teacher, teacher_temp).chunk(num_views)
        student = student.chunk(num_views)
        terms = [criterion(student[s], probs[t]).mean()
                 for t in range(num_views) for s in range(num_views) if s != t]
        return torch.stack(terms).mean()

    def mim_loss(self, student: torch.Tensor, teacher: torch.Tensor, masks: torch.Tensor,
                 teacher_temp: float) -> torch.Tensor:
        """iBOT's masked-patch CE from (M, K) student logits of the masked patches,
        (G*B, L, K) teacher patch logits and (G*B, L) masks (M True entries).

        Per image: the CE summed over its masked patches / max(1, #masked); mean over the
        G*B images. Only the masked patches are projected and compared (the unmasked
        ones carry no loss)."""
        criterion = self['patch']
        per_token = criterion(student, criterion.teacher_probs(teacher[masks], teacher_temp))
        image = masks.nonzero()[:, 0]  # (M,) image of each masked patch
        per_image_count = masks.sum(-1).clamp(min=1).to(per_token.dtype)
        return (per_token / per_image_count[image]).sum() / len(masks)

    def query_loss(self, student: torch.Tensor, teacher: torch.Tensor, num_views: int,
                   teacher_temp: float) -> torch.Tensor:
        """(G*B, Lq, K) student query logits vs (B, Lq, K) teacher crop logits."""
        criterion = self['query']
        probs = criterion.teacher_probs(teacher, teacher_temp).repeat(num_views, 1, 1)
        return criterion(student, probs).mean()
