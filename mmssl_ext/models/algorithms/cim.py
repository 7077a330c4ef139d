"""CIM: Correlational Image Modeling (Li et al., CVPR 2023)."""
from typing import Dict, List, Sequence

import torch
from mmpretrain.structures import DataSample

from mmssl_ext.registry import MODELS
from ..utils.data_samples import stack_sample_field
from ..utils.frozen_params import freeze_fixed_pos_embed
from .momentum_self_supervisor import MomentumSelfSupervisor


@MODELS.register_module()
class CIM(MomentumSelfSupervisor):
    """Correlational Image Modeling: locate exemplars cropped from a context image.

    The online encoder (``backbone``) embeds all B*N exemplars in one batched forward;
    the target encoder, an EMA copy of it, embeds the B contexts under ``no_grad``; the
    decoder (``neck``, e.g. :class:`CIMNeck`) predicts a 2-class map per (context,
    exemplar) pair and ``head`` (:class:`CIMHead`) computes the loss. Both encoders must
    return a tuple whose last element is a (B, 1 + h*w, C) token sequence:
    :class:`CIMViT` (or mmpretrain's ``MoCoV3ViT``) with ``out_type='raw'`` (ViT) or
    :class:`CIMResNet`.

    Target update: ``target = (1 - m) * target + m * online`` once per optimizer step,
    after it (as the reference), by :meth:`update_target`
    (:class:`MomentumSelfSupervisor`), which ``TargetUpdateHook`` calls when the optim
    wrapper has stepped (so gradient accumulation updates it once per step). ``m``
    follows mmengine's convention (weight of the NEW online parameters) and is annealed
    over training iterations from ``base_momentum`` to ``end_momentum``.
    The paper's target decay rate is ``tau = 1 - m``: its cosine schedule 0.99 -> 1.0
    is ``base_momentum=0.01, end_momentum=0.0`` (the defaults). The target starts as
    an exact copy of the initialised online encoder.
    ``mode='tensor'`` returns the online encoder's output for a (B, 3, H, W) batch.

    Departure from the reference: its target encoder reuses the online class token
    and position embedding; here the target is a full EMA copy, so its class token is
    the moving average of the online one (the fixed sin-cos position embeddings are
    identical either way).

    Args:
        backbone (dict): online encoder config.
        neck (dict): correlation decoder config.
        head (dict): loss head config.
        base_momentum (float): EMA weight of the online parameters at the start of
            training, in [0, 1]. Defaults to 0.01.
        end_momentum (float): EMA weight at the end of training, in [0, 1].
            Defaults to 0.0.
        pretrained (str, optional): checkpoint to initialise the whole model from.
        data_preprocessor (dict, optional): :class:`CIMDataPreprocessor`; must output
            ``inputs = [contexts, exemplars]`` and data samples with
            ``correlation_maps`` (see :meth:`loss`).
        init_cfg (dict, optional): mmengine initialisation config.
    """

    default_momentum = (0.01, 0.0)

    def __init__(self, backbone: dict, neck: dict, head: dict, **kwargs) -> None:
        super().__init__(backbone=backbone, neck=neck, head=head, **kwargs)
        freeze_fixed_pos_embed(self.backbone)  # before DDP sees the parameters
        self.add_momentum_target('target_encoder', 'backbone')
        self._check_sampler_sizes()

    def _check_sampler_sizes(self) -> None:
        """Contexts and exemplars must tile into whole patches of a ViT encoder."""
        sampler = getattr(self.data_preprocessor, 'sampler', None)
        patch_embed = getattr(self.backbone, 'patch_embed', None)
        if sampler is None or patch_embed is None:
            return
        patch = tuple(patch_embed.projection.stride)
        for name in ('context_size', 'exemplar_size'):
            size = tuple(getattr(sampler, name))
            if any(s % p for s, p in zip(size, patch)):
                raise ValueError(f'data_preprocessor.sampler.{name} {size} must be a '
                                 f'multiple of the patch size {patch}')

    def loss(self, inputs: Sequence[torch.Tensor],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """Correlation loss of a batch.

        Args:
            inputs (Sequence[Tensor]): ``[contexts, exemplars]``: (B, 3, Hc, Wc)
                contexts and (B, N, 3, He, We) exemplars.
            data_samples (list[DataSample]): each with ``correlation_maps``, the
                (N, Hc, Wc) ground truth in {0, 1}.

        Returns:
            dict[str, Tensor]: the head's ``loss`` and logged metrics.
        """
        contexts, exemplars = inputs
        correlation_maps = stack_sample_field(data_samples, 'correlation_maps',
                                              contexts.device, torch.long)
        return self.head.loss(self.correlation_logits(contexts, exemplars), correlation_maps)

    def correlation_logits(self, contexts: torch.Tensor,
                           exemplars: torch.Tensor) -> torch.Tensor:
        """Predicted correlation maps.

        Args:
            contexts (Tensor): (B, 3, Hc, Wc) normalised contexts.
            exemplars (Tensor): (B, N, 3, He, We) normalised exemplars.

        Returns:
            Tensor: (B, N, 2, Hc, Wc) logits (background, exemplar) per pixel.
        """
        if contexts.dim() != 4 or exemplars.dim() != 5 or len(contexts) != len(exemplars):
            raise ValueError('expected (B, 3, Hc, Wc) contexts and (B, N, 3, He, We) '
                             f'exemplars, got {tuple(contexts.shape)} and '
                             f'{tuple(exemplars.shape)}')
        batch, num_exemplars = exemplars.shape[:2]
        exemplar_tokens = self.backbone(exemplars.flatten(0, 1))[-1]  # (B*N, Le, C)
        with torch.no_grad():
            context_tokens = self.target_encoder(contexts)[-1]  # (B, Lc, C)
        return self.neck(context_tokens,
                         exemplar_tokens.unflatten(0, (batch, num_exemplars)),
                         contexts.shape[-2:])
