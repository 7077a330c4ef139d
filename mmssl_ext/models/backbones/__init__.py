from .cim_resnet import CIMResNet
from .context_encoder_vit import ContextEncoderViT
from .last_blocks_cls_vit import LastBlocksClsViT
from .query_vit import QueryViT

__all__ = ['CIMResNet', 'ContextEncoderViT', 'LastBlocksClsViT', 'QueryViT']
