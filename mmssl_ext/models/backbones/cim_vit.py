"""CIM's ViT encoder: MoCo v3's ViT as the CIM reference initialises and resizes it."""
import torch
import torch.nn as nn
from mmpretrain.models.selfsup import MoCoV3ViT

from mmssl_ext.registry import MODELS
from ..utils.pos_embed import POS_RESIZE_RULES, resize_pos_table, sincos_2d_table


@MODELS.register_module()
class CIMViT(MoCoV3ViT):
    """mmpretrain's ``MoCoV3ViT`` (same keys) with the CIM reference's position table.

    - The fixed 2-D sin-cos ``pos_embed`` (MAE's row-major table, zero class slot) is
      frozen here, at construction, so that wrappers such as DDP never see it trained.
    - ``pos_resize='scale_factor'`` (default): on the 10x10 context and 4x4 exemplar
      grids the table is resized as the reference does (bicubic, ``scale_factor=(n +
      0.1) / 14``, see :func:`resize_pos_table`), so a converted reference checkpoint
      gives the reference's outputs; ``'size'`` is mmpretrain's ``size=(n, n)``.
    - :meth:`init_weights` is the reference's, not MoCo v3's: xavier-uniform over each
      whole linear weight (qkv as one matrix; MoCo v3 treats q, k, v separately, std
      1.41x), zero biases, class token ~ N(0, 0.02) (MoCo v3: 1e-6); the patch
      embedding as MoCo v3 (uniform, zero bias) when frozen (``stop_grad_conv1``),
      else ~ N(0, sqrt(2 / (k * k * D))) as the reference's conv init.

    Args:
        pos_resize (str): 'scale_factor' or 'size'. Defaults to 'scale_factor'.
        **kwargs: ``MoCoV3ViT`` arguments.
    """

    def __init__(self, pos_resize: str = 'scale_factor', **kwargs) -> None:
        if pos_resize not in POS_RESIZE_RULES:
            raise ValueError(f'pos_resize must be one of {POS_RESIZE_RULES}, got {pos_resize!r}')
        super().__init__(**kwargs)
        if self.cls_token is None:
            raise ValueError('CIMViT needs with_cls_token=True')
        self.pos_resize = pos_resize
        self.pos_embed.requires_grad = False

    def init_weights(self) -> None:
        """The CIM reference's initialisation (see the class docstring)."""
        super().init_weights()
        if isinstance(self.init_cfg, dict) and self.init_cfg['type'] == 'Pretrained':
            return
        self.pos_embed.data.copy_(sincos_2d_table(self.patch_resolution, self.embed_dims))
        for module in self.layers.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        nn.init.normal_(self.cls_token, std=0.02)
        projection = self.patch_embed.projection
        if projection.weight.requires_grad:
            fan_out = projection.kernel_size[0] * projection.kernel_size[1] * self.embed_dims
            nn.init.normal_(projection.weight, std=(2. / fan_out)**0.5)

    def forward(self, x: torch.Tensor) -> tuple:
        """(B, 3, H, W) images -> the ``out_indices`` outputs (``out_type`` format)."""
        x, patch_resolution = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], dim=1)
        x = x + resize_pos_table(self.pos_embed, self.patch_resolution, patch_resolution,
                                 self.pos_resize, self.num_extra_tokens)
        x = self.pre_norm(self.drop_after_pos(x))
        outs = []
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index == len(self.layers) - 1 and self.final_norm:
                x = self.ln1(x)
            if index in self.out_indices:
                outs.append(self._format_output(x, patch_resolution))
        return tuple(outs)
