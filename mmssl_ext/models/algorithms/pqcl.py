"""PQCL: patch-level contrastive learning via positional query (Zhang et al., ICML 2023)."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmpretrain.structures import DataSample

from mmssl_ext.registry import MODELS
from ..utils.data_samples import stack_sample_field
from .momentum_self_supervisor import MomentumSelfSupervisor


def _view_major(x: torch.Tensor) -> torch.Tensor:
    """(B, G, ...) per-image views -> (G*B, ...), view-major."""
    return x.transpose(0, 1).flatten(0, 1)


@MODELS.register_module()
class PQCL(MomentumSelfSupervisor):
    """iBOT (or DINO) self-distillation plus PQCL's positional-query loss.

    Student (``backbone``, a :class:`QueryViT`): each of the G global views, masked
    (iBOT), plus the query tokens of every query crop placed in that view (mask token +
    relative sin-cos position, no pixels). Teacher: an EMA copy of backbone and heads,
    run without masks on the G global views and on the query crops' pixels, in eval
    mode (no drop path), except that BatchNorm layers of its heads (``use_bn``)
    normalise with the statistics of the current batch, as DINO's teacher (which runs
    in train mode) does: running statistics would let the teacher's outputs drift
    towards the same vector for every image, which centring turns into uniform
    targets. All tokens go through DINO / iBOT projection heads
    (``heads``: ``head``, shared by default; ``patch_head`` / ``query_head`` make
    separate ones); the EMA teacher copies are ``teacher_backbone`` / ``teacher_heads``.

    Losses (:class:`PQCLHead`, stored as ``losses``, which holds the three centres):
    ``loss_cls`` (DINO, cross-view class tokens), ``loss_mim`` (iBOT, masked patches;
    skipped when ``use_mim=False``, the DINO baseline) and ``loss_query`` (teacher's
    query-crop patches vs the student's query tokens, times ``query_loss_weight``).

    The teacher temperature ``teacher_temp`` (shared by the three losses) is set per
    epoch by ``TeacherTempWarmupHook``; the EMA update runs in ``TargetUpdateHook``
    (``custom_hooks`` must include both). Momenta follow mmengine (weight of the NEW
    parameters): the teacher decay 0.996 -> 1 is ``base_momentum=0.004,
    end_momentum=0``, annealed per iteration (:class:`MomentumSelfSupervisor`).

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
        pretrained (str, optional): checkpoint to initialise the model from.
        data_preprocessor (dict, optional): :class:`PQCLDataPreprocessor` config.
        init_cfg (dict, optional): mmengine initialisation config.
    """

    default_momentum = (0.004, 0.0)

    def __init__(self, backbone: dict, head: dict, patch_head: Optional[dict] = None,
                 query_head: Optional[dict] = None, use_mim: bool = True,
                 query_loss_weight: float = 1.0, student_temp: float = 0.1,
                 teacher_temp: float = 0.04, center_momentum: float = 0.9, **kwargs) -> None:
        if query_loss_weight < 0:
            raise ValueError(f'query_loss_weight must be >= 0, got {query_loss_weight}')
        super().__init__(backbone=backbone, **kwargs)
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
        self.losses = MODELS.build(dict(
            type='PQCLHead',
            out_channels={kind: cfg.get('out_channels', 8192) for kind, cfg in heads.items()},
            loss=dict(type='CenteredDistillationLoss', student_temp=student_temp,
                      center_momentum=center_momentum),
            use_mim=use_mim, query_loss_weight=query_loss_weight))
        self.use_mim, self.with_queries = use_mim, query_loss_weight > 0
        self.teacher_temp = teacher_temp
        self.add_momentum_target('teacher_backbone', 'backbone')
        self.add_momentum_target('teacher_heads', 'heads')

    def train(self, mode: bool = True) -> 'PQCL':
        """Set the mode; the teacher always runs in eval mode (no drop path), its heads'
        BatchNorm layers in the student's mode (batch statistics while training)."""
        super().train(mode)
        self.teacher_backbone.train(False)
        self.teacher_heads.train(False)
        for module in self.teacher_heads.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.train(mode)
        return self

    def extract_feat(self, inputs: torch.Tensor):
        """The teacher encoder on whole (B, 3, H, W) images: the encoder PQCL transfers
        (the reference's evaluation convention, ``extract_backbone.py``'s default), so
        the k-NN monitor scores the encoder a run hands on, not the student."""
        return self.teacher_backbone.module(inputs)

    def project(self, heads: nn.ModuleDict, tokens: torch.Tensor,
                query_tokens: Optional[torch.Tensor],
                patch_mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Logits of every token kind: ``cls`` from (N, 1 + L, C) tokens' class token,
        ``patch`` (with ``use_mim``) from their patch tokens, ``query`` from (N, Lq, C)
        query tokens (when given); a kind without its own head uses ``heads['cls']``.

        ``patch`` is (N, L, K), or (M, K) for the M patches where the (N, L) bool
        ``patch_mask`` is True (row-major order): the student's masked patches, the only
        ones its masked-patch loss reads (the teacher projects all of them: its centre is
        the mean over every patch)."""
        def head(kind):
            return heads[kind] if kind in heads else heads['cls']

        logits = dict(cls=head('cls')(tokens[:, 0]))
        if self.use_mim:
            patches = tokens[:, 1:] if patch_mask is None else tokens[:, 1:][patch_mask]
            logits['patch'] = head('patch')(patches)
        if query_tokens is not None:
            logits['query'] = head('query')(query_tokens)
        return logits

    def loss(self, inputs: Sequence[torch.Tensor],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """PQCL losses of a batch.

        Args:
            inputs (Sequence[Tensor]): ``[global views (B, G, 3, S, S), query crops
                (B, Q, 3, s, s)]``.
            data_samples (list[DataSample]): each with ``query_coords`` (G, Q, n, 2)
                and ``mask`` (G, h, w) (:class:`PackPQCLInputs`).

        Returns:
            dict[str, Tensor]: ``loss_cls``, ``loss_mim`` (with ``use_mim``),
            ``loss_query`` (weighted; absent when the weight is 0) and the current
            ``teacher_temp``.
        """
        global_views, queries = inputs
        batch, num_views, num_queries = *global_views.shape[:2], queries.shape[1]
        images = _view_major(global_views)
        masks = _view_major(stack_sample_field(data_samples, 'mask', images.device, torch.bool))
        coords = _view_major(stack_sample_field(data_samples, 'query_coords', images.device,
                                                torch.float)).flatten(1, 2)  # (G*B, Q*n, 2)
        tokens, query_tokens = self.backbone.forward_tokens(
            images, masks if self.use_mim else None, coords if self.with_queries else None,
            num_queries)
        student = self.project(self.heads, tokens, query_tokens if self.with_queries else None,
                               masks.flatten(1) if self.use_mim else None)
        with torch.no_grad():
            teacher_tokens, _ = self.teacher_backbone.module.forward_tokens(images)
            crop_tokens = None
            if self.with_queries:  # (B*Q, 1 + n, C) -> (B, Q*n, C) patch tokens
                crop_tokens = self.teacher_backbone.module.forward_tokens(
                    queries.flatten(0, 1))[0][:, 1:].reshape(batch, -1, tokens.shape[-1])
            teacher = self.project(self.teacher_heads.module, teacher_tokens, crop_tokens)
        losses = self.losses.loss(student, teacher, masks.flatten(1), num_views,
                                  self.teacher_temp)
        losses['teacher_temp'] = torch.tensor(float(self.teacher_temp))
        return losses
