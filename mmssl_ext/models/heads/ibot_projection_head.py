"""DINO / iBOT projection head."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import weight_norm

from mmssl_ext.registry import MODELS


@MODELS.register_module()
class IBOTProjectionHead(nn.Module):
    """MLP, L2 normalisation and a weight-normalised linear layer without bias.

    ``x -> Linear(D, hidden) -> [BN] -> GELU -> [Linear(hidden, hidden) -> [BN] -> GELU]
    x (num_layers - 2) -> Linear(hidden, bottleneck) -> L2-normalise ->
    last_layer(bottleneck, K)``; the BatchNorm1d layers (DINO's ``use_bn_in_head``,
    iBOT's ``use_bn``) normalise over all tokens of a call, whatever their leading
    dimensions.
    MLP weights ~ truncated normal (std 0.02), biases 0; the last layer's magnitude
    ``parametrizations.weight.original0`` starts at 1 and is frozen when
    ``norm_last_layer`` (then the last layer is a cosine similarity to K prototypes).

    Args:
        in_channels (int): D, the backbone's token width.
        out_channels (int): K prototypes. Defaults to 8192.
        hidden_channels (int): MLP width. Defaults to 2048.
        bottleneck_channels (int): width before the last layer. Defaults to 256.
        num_layers (int): MLP layers, >= 1. Defaults to 3.
        norm_last_layer (bool): freeze the last layer's magnitude at 1. Defaults to
            False (PQCL / iBOT ViT-S).
        use_bn (bool): BatchNorm1d after every hidden linear layer. Defaults to False
            (DINO / iBOT / PQCL ViTs).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 8192,
                 hidden_channels: int = 2048,
                 bottleneck_channels: int = 256,
                 num_layers: int = 3,
                 norm_last_layer: bool = False,
                 use_bn: bool = False) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f'num_layers must be >= 1, got {num_layers}')
        self.in_channels = in_channels
        widths = [in_channels] + [hidden_channels] * (num_layers - 1) + [bottleneck_channels]
        layers = []
        for index, (width_in, width_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(width_in, width_out))
            if index < num_layers - 1:
                layers += [nn.BatchNorm1d(width_out)] if use_bn else []
                layers.append(nn.GELU())
        self.mlp = nn.Sequential(*layers)
        for module in self.mlp:
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
        self.last_layer = weight_norm(nn.Linear(bottleneck_channels, out_channels, bias=False))
        magnitude = self.last_layer.parametrizations.weight.original0
        magnitude.data.fill_(1.)
        magnitude.requires_grad = not norm_last_layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., D) tokens -> (..., K) logits."""
        features = self.mlp(x.flatten(0, -2)).unflatten(0, x.shape[:-1])
        return self.last_layer(F.normalize(features, dim=-1))
