"""A frozen-feature ViT for DINO / iBOT linear probing."""
import torch
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.utils import resize_pos_embed

from mmssl_ext.registry import MODELS


@MODELS.register_module()
class LastBlocksClsViT(VisionTransformer):
    """mmpretrain's ``VisionTransformer`` returning DINO / iBOT's linear-probe feature.

    The class tokens of the last ``num_blocks`` blocks, each passed through the final
    norm ``ln1``, concatenated; with ``avgpool`` also the mean of the last block's
    normalised patch tokens (DINO / iBOT: ViT-S ``num_blocks=4``; ViT-B
    ``num_blocks=1, avgpool=True``). Same parameters and keys as the parent.

    Args:
        num_blocks (int): last blocks whose class tokens are used. Defaults to 4.
        avgpool (bool): append the mean patch token. Defaults to False.
        **kwargs: ``VisionTransformer`` arguments (``final_norm=True``, class token).

    Returns (forward):
        tuple[Tensor]: one (B, D * (num_blocks + avgpool)) feature.
    """

    def __init__(self, num_blocks: int = 4, avgpool: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        if not 1 <= num_blocks <= self.num_layers:
            raise ValueError(f'num_blocks must be in [1, {self.num_layers}], got {num_blocks}')
        if not self.final_norm or self.cls_token is None:
            raise ValueError('LastBlocksClsViT needs final_norm=True and a class token')
        self.num_blocks, self.avgpool = num_blocks, avgpool

    def forward(self, x: torch.Tensor) -> tuple:
        x, patch_resolution = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1)
        x = x + resize_pos_embed(self.pos_embed, self.patch_resolution, patch_resolution,
                                 mode=self.interpolate_mode,
                                 num_extra_tokens=self.num_extra_tokens)
        x = self.pre_norm(self.drop_after_pos(x))
        normed = []  # (B, 1 + L, D) after the final norm, one per used block
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index >= self.num_layers - self.num_blocks:
                normed.append(self.ln1(x))
        features = [tokens[:, 0] for tokens in normed]
        if self.avgpool:
            features.append(normed[-1][:, self.num_extra_tokens:].mean(1))
        return (torch.cat(features, dim=-1), )
