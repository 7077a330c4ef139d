"""CAE: Context Autoencoder (Chen et al., IJCV 2023)."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmpretrain.structures import DataSample

from mmssl_ext.registry import MODELS
from ..utils.data_samples import stack_sample_field
from ..utils.patch_pixels import normalized_patch_pixels
from .momentum_self_supervisor import MomentumSelfSupervisor

ALIGNMENT_ENCODERS = ('online', 'ema')


@MODELS.register_module()
class ContextAutoencoder(MomentumSelfSupervisor):
    """Context autoencoder pre-training.

    Per batch: the encoder F (``backbone``, :class:`ContextEncoderViT`) encodes the
    class token and the visible patches only; the regressor and decoder (``neck``,
    :class:`CAERegressorDecoder`) predict the masked patches' representations Z_m and
    their reconstruction targets; ``head`` (:class:`CAEPretrainHead`) computes
    ``loss_main`` (reconstruction) and ``loss_align = lambda * MSE(Z_m, sg[F(X_m)])``.
    The alignment target F(X_m) is the encoder applied to the MASKED patches under
    ``no_grad``: with ``alignment_encoder='online'`` (default; paper and reference) it
    is the same live encoder, in train mode as in the reference; with ``'ema'`` it is
    a momentum copy updated after every optimizer step by ``TargetUpdateHook``
    (``base_momentum`` = weight of the new parameters, annealed to ``end_momentum``;
    :class:`MomentumSelfSupervisor`).

    Reconstruction targets, chosen by ``head.target``:

    - ``'tokens'``: the argmax codes of ``target_generator`` (mmpretrain's ``'DALL-E'``
      encoder) on the second image ``inputs[1]`` (112 px, normalised by
      ``TwoNormDataPreprocessor``).
    - ``'pixels'``: the per-patch normalised pixels of ``inputs[0]``; no tokenizer, no
      external weights.

    Inputs: ``inputs[0]`` (B, 3, H, W) normalised images (and ``inputs[1]`` for
    tokens); each data sample carries a (h, w) ``mask`` (True = masked) with the same
    number of masked patches in every image (:class:`BlockwiseMaskGenerator`).

    Args:
        backbone (dict): encoder config.
        neck (dict): regressor + decoder config.
        head (dict): loss config.
        target_generator (dict, optional): tokenizer, required for token targets.
        alignment_encoder (str): ``'online'`` or ``'ema'``. Defaults to 'online'.
        base_momentum (float): EMA weight of the online encoder (``'ema'`` only).
            Defaults to 0.004 (target decay 0.996). Formerly ``momentum``: the old
            name is not accepted (a build error names it).
        end_momentum (float): final EMA weight. Defaults to 0.0.
        pretrained (str, optional): checkpoint to initialise the model from.
        data_preprocessor (dict, optional): ``TwoNormDataPreprocessor`` (tokens) or
            ``SelfSupDataPreprocessor`` (pixels).
        init_cfg (dict, optional): mmengine initialisation config.
    """

    default_momentum = (0.004, 0.0)

    def __init__(self, backbone: dict, neck: dict, head: dict,
                 target_generator: Optional[dict] = None, alignment_encoder: str = 'online',
                 **kwargs) -> None:
        if alignment_encoder not in ALIGNMENT_ENCODERS:
            raise ValueError(f'alignment_encoder must be one of {ALIGNMENT_ENCODERS}, '
                             f'got {alignment_encoder!r}')
        super().__init__(backbone=backbone, neck=neck, head=head,
                         target_generator=target_generator, **kwargs)
        if self.head.target == 'tokens' and not self.with_target_generator:
            raise ValueError("head.target='tokens' needs a target_generator (tokenizer)")
        if self.with_target_generator:  # a fixed tokenizer: no gradients, no DDP syncing
            self.target_generator.requires_grad_(False)
        if self.head.target == 'pixels':
            patch_pixels = self.backbone.patch_embed.projection.kernel_size[0]**2 * 3
            if self.neck.predictor.out_features != patch_pixels:
                raise ValueError(f'neck.out_channels must be patch_size**2 * 3 = '
                                 f'{patch_pixels} for pixel targets, got '
                                 f'{self.neck.predictor.out_features}')
        if self.backbone.embed_dims != self.neck.mask_token.shape[-1]:
            raise ValueError(f'neck.embed_dims ({self.neck.mask_token.shape[-1]}) must equal '
                             f'the encoder width ({self.backbone.embed_dims})')
        self.alignment_encoder = alignment_encoder
        self.target_encoder = None
        if alignment_encoder == 'ema':
            self.add_momentum_target('target_encoder', 'backbone')

    def update_target(self) -> None:
        """One EMA step of the alignment encoder (``alignment_encoder='ema'``)."""
        if self.target_encoder is None:
            raise RuntimeError("update_target() needs alignment_encoder='ema'; the "
                               "'online' alignment target needs no TargetUpdateHook")
        super().update_target()

    def extract_feat(self, inputs: torch.Tensor):
        """The encoder on whole images (no mask)."""
        return self.backbone(inputs)

    @torch.no_grad()
    def reconstruction_targets(self, inputs: Sequence[torch.Tensor],
                               mask: torch.Tensor) -> torch.Tensor:
        """(B, Nm) token indices or (B, Nm, p*p*3) pixels of the masked patches."""
        batch = mask.shape[0]
        if self.head.target == 'tokens':
            if len(inputs) < 2:
                raise ValueError('token targets need the tokenizer image as inputs[1] '
                                 '(TwoNormDataPreprocessor)')
            tokens = self.target_generator(inputs[1]).argmax(1).flatten(1)  # (B, N)
            return tokens[mask].view(batch, -1)
        patch_size = self.backbone.patch_embed.projection.kernel_size[0]
        pixels = normalized_patch_pixels(inputs[0], patch_size)  # (B, N, p*p*3)
        return pixels[mask].view(batch, -1, pixels.shape[-1])

    def loss(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """``loss_main`` and ``loss_align`` (and ``mim_acc`` for token targets).

        ``inputs`` is a (B, 3, H, W) batch (``SelfSupDataPreprocessor`` with one view) or
        ``[images, tokenizer_images]`` (``TwoNormDataPreprocessor``).
        """
        if isinstance(inputs, torch.Tensor):
            inputs = [inputs]
        images = inputs[0]
        mask = stack_sample_field(data_samples, 'mask', images.device,
                                  torch.bool).flatten(1)  # (B, N)
        visible = self.backbone(images, mask)  # (B, 1 + Nv, C)
        latent_predictions, predictions = self.neck(visible[:, 1:], mask)
        with torch.no_grad():
            alignment_encoder = self.backbone if self.target_encoder is None \
                else self.target_encoder
            latent_targets = alignment_encoder(images, ~mask)[:, 1:]  # (B, Nm, C)
        return self.head.loss(predictions, self.reconstruction_targets(inputs, mask),
                              latent_predictions, latent_targets)
