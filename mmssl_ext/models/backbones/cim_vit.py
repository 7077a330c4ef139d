"""CIM's ViT encoder: MoCo v3's ViT as the CIM reference initialises and resizes it."""
import torch
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
        """MoCo v3's initialisation with the reference's (MAE's) sin-cos table."""
        super().init_weights()
        if isinstance(self.init_cfg, dict) and self.init_cfg['type'] == 'Pretrained':
            return
        self.pos_embed.data.copy_(sincos_2d_table(self.patch_resolution, self.embed_dims))

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
