"""Parameters frozen at construction that mmpretrain only freezes in ``init_weights``."""
import torch.nn as nn
from mmpretrain.models.selfsup import MoCoV3ViT


def _loads_pretrained(module: nn.Module) -> bool:
    init_cfg = getattr(module, 'init_cfg', None)
    return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'


def freeze_fixed_pos_embed(backbone: nn.Module) -> None:
    """Freeze a ``MoCoV3ViT``'s fixed sin-cos position embedding now, not in init_weights.

    ``MoCoV3ViT.init_weights`` writes a fixed 2-D sin-cos table into ``pos_embed`` and
    sets ``requires_grad=False`` (unless its ``init_cfg`` is ``Pretrained``). mmengine's
    Runner wraps the model in DistributedDataParallel before it calls ``init_weights``,
    so DDP would wait for a gradient of ``pos_embed`` that never comes and fail at the
    second iteration. Freezing at construction gives DDP the final set of trainable
    parameters; the state-dict key is unchanged. Other backbones are left as they are.
    """
    if isinstance(backbone, MoCoV3ViT) and not _loads_pretrained(backbone):
        backbone.pos_embed.requires_grad_(False)
