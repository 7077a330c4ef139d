from .cim_resnet import CIMResNet
from .cim_vit import CIMViT
from .context_encoder_vit import ContextEncoderViT
from .last_blocks_cls_vit import LastBlocksClsViT
from .query_vit import QueryViT

__all__ = ['CIMResNet', 'CIMViT', 'ContextEncoderViT', 'LastBlocksClsViT', 'QueryViT']
