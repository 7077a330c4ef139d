"""PQCL: patch-level contrastive learning via positional query (Zhang et al., ICML 2023)."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.structures import DataSample

from mmssl_ext.registry import MODELS
from ..losses.centered_distillation_loss import CenteredDistillationLoss
from ..utils.ema import IterCosineEMA


@MODELS.register_module()
class PQCL(BaseSelfSupervisor):
    """iBOT (or DINO) self-distillation plus PQCL's positional-query loss.

    Student (``backbone``, a :class:`QueryViT`): each of the G global views, masked
    (iBOT), plus the query tokens of every query crop placed in that view (mask token +
    relative sin-cos position, no pixels). Teacher: an EMA copy of backbone and heads,
    run without masks on the G global views and on the query crops' pixels, in eval
    mode (no drop path). All tokens go through DINO / iBOT projection heads
    (``head``, shared by default; ``patch_head`` / ``query_head`` make separate ones).

    Losses (teacher probabilities ``softmax((t - c) / tau_t)``, student
    ``log_softmax(s / tau_s)``, one centre c per kind):

    - ``loss_cls`` (DINO): class tokens, mean of the G (G - 1) cross-view pairs,
      each averaged over the batch;
    - ``loss_mim`` (iBOT): same view, patch tokens; per image the CE summed over masked
      patches / max(1, #masked), averaged over the batch (unmasked images count 0)
      and the G views; skipped when ``use_mim=False`` (DINO baseline);
    - ``loss_query``: for every global view, the CE between the teacher's patch
      distribution of the query crop and the student's query tokens, averaged over
      tokens, crops, batch and views; times ``query_loss_weight``.

    The teacher temperature ``teacher_temp`` (shared by the three losses) is set per
    epoch by ``TeacherTempWarmupHook``; the EMA update runs in ``TargetUpdateHook``
    (``custom_hooks`` must include both). Momenta follow mmengine (weight of the NEW
    parameters): the teacher decay 0.996 -> 1 is ``base_momentum=0.004,
    end_momentum=0``, annealed per iteration by :class:`IterCosineEMA`.

    Departures from the reference: the relative positions account for the global
    view's flip, and view 2 uses BYOL's second colour pipeline (both reference bugs,
    see :class:`PQCLViews` / :class:`PQCLDataPreprocessor`); with several query crops
    a query token attends to its own crop's tokens only (the reference lets all crops'
    query tokens see each other; its default is one crop, where both agree); the patch
    embedding keeps mmpretrain's initialisation; iBOT masks are drawn with an exact
    patch count (:class:`BlockwiseMaskGenerator`).

    Args:
        backbone (dict): :class:`QueryViT` config.
        head (dict): :class:`IBOTProjectionHead` config (cls tokens; also patch and
            query tokens unless given their own).
        patch_head, query_head (dict, optional): separate heads.
        use_mim (bool): iBOT masked-patch loss. Defaults to True.
        query_loss_weight (float): lambda. Defaults to 1. 0 switches the query stream
            off (no query tokens, no teacher pass over the query crops): iBOT / DINO
            alone, the baseline of the query stream's cost.
        student_temp (float): Defaults to 0.1.
        teacher_temp (float): until the hook sets it. Defaults to 0.04.
        center_momentum (float): Defaults to 0.9.
        base_momentum, end_momentum (float): teacher EMA. Defaults to 0.004 and 0.
        data_preprocessor (dict, optional): :class:`PQCLDataPreprocessor` config.
        init_cfg (dict, optional): mmengine initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 patch_head: Optional[dict] = None,
                 query_head: Optional[dict] = None,
                 use_mim: bool = True,
                 query_loss_weight: float = 1.0,
                 student_temp: float = 0.1,
                 teacher_temp: float = 0.04,
                 center_momentum: float = 0.9,
                 base_momentum: float = 0.004,
                 end_momentum: float = 0.0,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        for name, value in (('base_momentum', base_momentum), ('end_momentum', end_momentum)):
            if not 0. <= value <= 1.:
                raise ValueError(f'{name} must be in [0, 1], got {value}')
        if query_loss_weight < 0:
            raise ValueError(f'query_loss_weight must be >= 0, got {query_loss_weight}')
        super().__init__(backbone=backbone, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        embed_dims = self.backbone.embed_dims
        heads = dict(cls=head, patch=patch_head or head, query=query_head or head)
        for name, cfg in (('head', head), ('patch_head', patch_head),
                          ('query_head', query_head)):
            if cfg is not None and cfg.get('in_channels') != embed_dims:
                raise ValueError(f'{name}.in_channels ({cfg.get("in_channels")}) must equal '
                                 f"the backbone's embed_dims ({embed_dims})")
        self.heads = nn.ModuleDict(dict(cls=MODELS.build(head)))
        for kind, cfg in (('patch', patch_head), ('query', query_head)):
            if cfg is not None:
                self.heads[kind] = MODELS.build(cfg)
        self.losses = nn.ModuleDict({
            kind: CenteredDistillationLoss(cfg.get('out_channels', 8192), student_temp,
                                           center_momentum)
            for kind, cfg in heads.items() if kind != 'patch' or use_mim})
        self.use_mim, self.query_loss_weight = use_mim, query_loss_weight
        self.teacher_temp = teacher_temp
        self.teacher_backbone = IterCosineEMA(self.backbone, momentum=base_momentum,
                                              end_momentum=end_momentum)
        self.teacher_heads = IterCosineEMA(self.heads, momentum=base_momentum,
                                           end_momentum=end_momentum)

    def init_weights(self) -> None:
        """Initialise, then make a fresh teacher an exact copy of the student."""
        super().init_weights()
        if self.teacher_backbone.steps == 0:
            self.teacher_backbone.update_parameters(self.backbone)
            self.teacher_heads.update_parameters(self.heads)

    def train(self, mode: bool = True) -> 'PQCL':
        """Set the mode; the teacher always runs in eval mode (no drop path)."""
        super().train(mode)
        self.teacher_backbone.train(False)
        self.teacher_heads.train(False)
        return self

    @torch.no_grad()
    def update_target(self) -> None:
        """One EMA step of the teacher towards the student (``TargetUpdateHook``)."""
        self.teacher_backbone.update_parameters(self.backbone)
        self.teacher_heads.update_parameters(self.heads)

    @staticmethod
    def _head(heads: nn.ModuleDict, kind: str) -> nn.Module:
        return heads[kind] if kind in heads else heads['cls']

    def loss(self, inputs: Sequence[torch.Tensor],
             data_samples: Optional[List[DataSample]] = None) -> Dict[str, torch.Tensor]:
        """PQCL losses of a batch.

        Args:
            inputs (Sequence[Tensor]): ``[global views (B, G, 3, S, S), query crops
                (B, Q, 3, s, s), query coords (B, G, Q, n, 2), masks (B, G, h, w)]``.
            data_samples (list[DataSample], optional): unused.

        Returns:
            dict[str, Tensor]: ``loss_cls``, ``loss_mim`` (with ``use_mim``),
            ``loss_query`` (weighted; absent when the weight is 0) and the current
            ``teacher_temp``.
        """
        global_views, queries, coords, masks = inputs
        batch, num_views = global_views.shape[:2]
        num_queries = queries.shape[1]
        images = global_views.transpose(0, 1).flatten(0, 1)  # (G*B, 3, S, S), view-major
        view_masks = masks.transpose(0, 1).flatten(0, 1)  # (G*B, h, w)
        query_coords = coords.transpose(0, 1).flatten(0, 1).flatten(1, 2)  # (G*B, Q*n, 2)

        with_queries = self.query_loss_weight > 0
        tokens, query_tokens = self.backbone.forward_tokens(
            images, view_masks if self.use_mim else None,
            query_coords if with_queries else None, num_queries)
        student = dict(cls=self._head(self.heads, 'cls')(tokens[:, 0]))
        if with_queries:
            student['query'] = self._head(self.heads, 'query')(query_tokens)
        with torch.no_grad():
            teacher_backbone = self.teacher_backbone.module
            teacher_heads = self.teacher_heads.module
            teacher_tokens, _ = teacher_backbone.forward_tokens(images)
            teacher = dict(cls=self._head(teacher_heads, 'cls')(teacher_tokens[:, 0]))
            if with_queries:
                crop_tokens, _ = teacher_backbone.forward_tokens(queries.flatten(0, 1))
                teacher['query'] = self._head(teacher_heads, 'query')(
                    crop_tokens[:, 1:]).reshape(batch, query_tokens.shape[1], -1)  # (B, Q*n, K)
            if self.use_mim:
                teacher['patch'] = self._head(teacher_heads, 'patch')(teacher_tokens[:, 1:])

        losses = dict(loss_cls=self._cls_loss(student['cls'], teacher['cls'], num_views))
        if self.use_mim:
            student_patch = self._head(self.heads, 'patch')(tokens[:, 1:])
            losses['loss_mim'] = self._mim_loss(student_patch, teacher['patch'],
                                                view_masks.flatten(1))
        if with_queries:
            losses['loss_query'] = self.query_loss_weight * self._query_loss(
                student['query'], teacher['query'], num_views)
        for kind, loss in self.losses.items():
            if kind in teacher:
                loss.update_center(teacher[kind])
        losses['teacher_temp'] = torch.tensor(float(self.teacher_temp))
        return losses

    def _cls_loss(self, student: torch.Tensor, teacher: torch.Tensor,
                  num_views: int) -> torch.Tensor:
        """(G*B, K) view-major class logits -> mean CE over cross-view pairs."""
        criterion = self.losses['cls']
        probs = criterion.teacher_probs(teacher, self.teacher_temp).chunk(num_views)
        student = student.chunk(num_views)
        terms = [criterion(student[s], probs[t]).mean()
                 for t in range(num_views) for s in range(num_views) if s != t]
        return torch.stack(terms).mean()

    def _mim_loss(self, student: torch.Tensor, teacher: torch.Tensor,
                  masks: torch.Tensor) -> torch.Tensor:
        """(G*B, L, K) patch logits, (G*B, L) masks -> iBOT's masked-patch CE."""
        criterion = self.losses['patch']
        per_token = criterion(student, criterion.teacher_probs(teacher, self.teacher_temp))
        weights = masks.float()
        return ((per_token * weights).sum(-1) / weights.sum(-1).clamp(min=1.)).mean()

    def _query_loss(self, student: torch.Tensor, teacher: torch.Tensor,
                    num_views: int) -> torch.Tensor:
        """(G*B, Lq, K) student query logits vs (B, Lq, K) teacher crop logits."""
        criterion = self.losses['query']
        probs = criterion.teacher_probs(teacher, self.teacher_temp).repeat(num_views, 1, 1)
        return criterion(student, probs).mean()
