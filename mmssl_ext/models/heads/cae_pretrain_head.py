"""CAE's two losses: reconstruction of the masked patches and latent alignment."""
from typing import Dict

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmssl_ext.registry import MODELS

RECONSTRUCTION_TARGETS = ('tokens', 'pixels')


@MODELS.register_module()
class CAEPretrainHead(BaseModule):
    """``loss_main`` on the decoder outputs + ``loss_align`` on the regressor outputs.

    - ``target='tokens'``: cross-entropy between (B, Nm, V) logits and the (B, Nm)
      tokenizer indices of the masked patches (paper: DALL-E, V = 8192); also logs the
      token accuracy ``mim_acc``.
    - ``target='pixels'``: mean squared error between (B, Nm, p*p*3) predictions and
      the per-patch normalised pixels of the masked patches.
    - alignment: ``align_weight * MSE(Z_m, sg[F(X_m)])`` (paper: lambda = 2); the
      target is detached here whatever the caller passed.

    Both terms are returned under keys containing ``loss`` so mmengine sums and logs
    them separately. Losses are computed in float32 (AMP-safe).

    Args:
        target (str): ``'tokens'`` or ``'pixels'``. Defaults to 'tokens'.
        align_weight (float): lambda, >= 0. Defaults to 2.0.
    """

    def __init__(self, target: str = 'tokens', align_weight: float = 2.0,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if target not in RECONSTRUCTION_TARGETS:
            raise ValueError(f'target must be one of {RECONSTRUCTION_TARGETS}, got {target!r}')
        if align_weight < 0:
            raise ValueError(f'align_weight must be >= 0, got {align_weight}')
        self.target = target
        self.align_weight = align_weight

    def loss(self, predictions: torch.Tensor, targets: torch.Tensor,
             latent_predictions: torch.Tensor,
             latent_targets: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Both loss terms.

        Args:
            predictions (Tensor): (B, Nm, V) token logits or (B, Nm, p*p*3) pixels.
            targets (Tensor): (B, Nm) long token indices or (B, Nm, p*p*3) pixels.
            latent_predictions (Tensor): (B, Nm, C) regressor outputs Z_m.
            latent_targets (Tensor): (B, Nm, C) encoder representations of the masked
                patches.

        Returns:
            dict[str, Tensor]: ``loss_main``, ``loss_align`` (and ``mim_acc``).
        """
        losses = {}
        if self.target == 'tokens':
            logits = predictions.flatten(0, 1).float()
            labels = targets.flatten()
            losses['loss_main'] = F.cross_entropy(logits, labels)
            with torch.no_grad():
                losses['mim_acc'] = (logits.argmax(1) == labels).float().mean()
        else:
            losses['loss_main'] = F.mse_loss(predictions.float(), targets.float())
        losses['loss_align'] = self.align_weight * F.mse_loss(
            latent_predictions.float(), latent_targets.detach().float())
        return losses
