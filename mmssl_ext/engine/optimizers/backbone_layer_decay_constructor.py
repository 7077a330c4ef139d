"""Layer-wise learning-rate decay for any model whose backbone knows its layer depths."""
from typing import Callable, List, Optional

from mmpretrain.engine.optimizers import LearningRateDecayOptimWrapperConstructor
from torch import nn

from mmssl_ext.registry import OPTIM_WRAPPER_CONSTRUCTORS, register_downstream


@register_downstream('OPTIM_WRAPPER_CONSTRUCTORS')
@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BackboneLayerDecayOptimWrapperConstructor(LearningRateDecayOptimWrapperConstructor):
    """mmpretrain's layer-wise lr decay, driven by ``model.backbone.get_layer_depth``.

    mmpretrain's constructor needs ``get_layer_depth`` on the top-level model (only its
    classifiers have it), mmdet's handles ConvNeXt only and mmseg's checks backbone
    class names. This one asks the backbone directly, ``backbone.get_layer_depth(name,
    'backbone.')``, so a ViT (mmpretrain ``VisionTransformer`` and subclasses) inside an
    mmdet detector, an mmseg segmentor or an mmpretrain classifier gets the same groups:
    a parameter at depth ``d`` of ``D`` gets ``lr * layer_decay_rate ** (D - d - 1)``;
    parameters outside the backbone (neck, heads) count as the last layer (scale 1).
    ``paramwise_cfg`` takes the keys of mmpretrain's constructor (``layer_decay_rate``,
    ``norm_decay_mult``, ``bias_decay_mult``, ``flat_decay_mult``, ``custom_keys``).
    Registered in mmpretrain's, mmdet's and mmseg's ``OPTIM_WRAPPER_CONSTRUCTORS``.
    """

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '',
                   get_layer_depth: Optional[Callable] = None, **kwargs) -> None:
        if get_layer_depth is None:
            backbone = getattr(module, 'backbone', None)
            if not callable(getattr(backbone, 'get_layer_depth', None)):
                raise TypeError(
                    f'{type(self).__name__} needs model.backbone.get_layer_depth(); '
                    f'{type(module).__name__}.backbone is {type(backbone).__name__}')

            def get_layer_depth(name: str):
                return backbone.get_layer_depth(name, 'backbone.')

        super().add_params(params, module, prefix, get_layer_depth=get_layer_depth, **kwargs)
