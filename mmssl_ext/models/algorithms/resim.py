"""ReSim: Region Similarity Representation Learning (Xiao et al., ICCV 2021)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather
from mmpretrain.models.utils import batch_unshuffle_ddp
from mmpretrain.structures import DataSample

from mmssl_ext.registry import MODELS
from ..utils.batch_shuffle import batch_shuffle_ddp
from ..utils.data_samples import stack_sample_field
from .momentum_self_supervisor import MomentumSelfSupervisor


@MODELS.register_module()
class ReSim(MomentumSelfSupervisor):
    """MoCo v2 plus region similarity between matched windows of the two views.

    Query path (gradients): ``backbone`` returns a tuple of feature maps whose last is
    C5; ``neck`` (MoCo v2 MLP on pooled C5) gives the global query; the region levels
    are ``region_neck(outs)`` if given (ReSim-FPN: :class:`ReSimFPN`, C3-C5 -> P3, P4)
    else ``outs[:-1]`` (ReSim-C4: backbone ``out_indices=(2, 3)``); ``region_head``
    (:class:`ReSimRegionHead`) embeds the sliding windows. Key path: the momentum
    encoder, an EMA copy of all four modules, on the key view with MoCo's shuffle BN
    across ranks (the key boxes travel with their images), embedding the mapped
    windows. Loss: ``loss_global`` (``head``, InfoNCE against the queue; its
    ``loss_weight`` is lambda) plus one ``loss_region_<level>`` per level;
    ``num_regions_<level>`` logs this rank's valid windows.

    Momentum update: ``key = (1 - m) * key + m * query`` once per optimizer step by
    :meth:`update_target`, called by ``TargetUpdateHook`` (the config must include
    ``custom_hooks = [dict(type='TargetUpdateHook')]``); ``m`` follows mmengine's
    convention (weight of the new parameters): MoCo's 0.999 is ``m = 0.001``, constant
    when ``base_momentum == end_momentum`` (default), else cosine-annealed over
    iterations (:class:`MomentumSelfSupervisor`).

    Data: ``ReSimViews`` + ``PackInputs(algorithm_keys=['crop_boxes'])`` and
    :class:`ReSimDataPreprocessor` (``inputs = [query, key]``; each data sample holds
    ``crop_boxes`` (2, 4) and the shared ``flip``).

    Args:
        backbone (dict): encoder config, e.g. mmpretrain ``ResNet``.
        neck (dict): global projection, e.g. ``MoCoV2Neck(2048, 2048, 128)``.
        head (dict): global loss, e.g. ``ContrastiveHead(temperature=0.2)``.
        region_head (dict, optional): :class:`ReSimRegionHead` config; None switches
            the region branch off (MoCo v2 on the same views, the cost baseline).
        region_neck (dict, optional): :class:`ReSimFPN` config for ReSim-FPN.
        queue_len (int): number of negative keys of the global branch; must be a
            multiple of the global batch size. Defaults to 65536.
        feat_dim (int): dimension of the global embedding. Defaults to 128.
        base_momentum, end_momentum (float): EMA weight of the query encoder at the
            start / end of training. Defaults to 0.001 (MoCo's 0.999, constant).
        pretrained (str, optional): checkpoint to initialise the model from.
        data_preprocessor (dict, optional): defaults to :class:`ReSimDataPreprocessor`.
        init_cfg (dict, optional): mmengine initialisation config.
    """

    default_momentum = (0.001, 0.001)

    def __init__(self, backbone: dict, neck: dict, head: dict,
                 region_head: Optional[dict] = None, region_neck: Optional[dict] = None,
                 queue_len: int = 65536, feat_dim: int = 128, **kwargs) -> None:
        if queue_len <= 0:
            raise ValueError(f'queue_len must be > 0, got {queue_len}')
        if kwargs.get('data_preprocessor') is None:
            kwargs['data_preprocessor'] = dict(type='ReSimDataPreprocessor')
        super().__init__(backbone=backbone, neck=neck, head=head, **kwargs)
        if region_neck is not None and region_head is None:
            raise ValueError('region_neck needs a region_head')
        temperature = getattr(self.head, 'temperature', 1.)
        if temperature <= 0:
            raise ValueError(f'head.temperature must be > 0, got {temperature}')
        self.region_neck = MODELS.build(region_neck) if region_neck else None
        self.region_head = MODELS.build(region_head) if region_head else None
        self.add_momentum_target('momentum_encoder', '_query_encoder')
        self.queue_len = queue_len
        self.register_buffer('queue', F.normalize(torch.randn(feat_dim, queue_len), dim=0))
        self.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))

    def _query_encoder(self) -> nn.ModuleDict:
        """The trained modules, grouped as the momentum encoder mirrors them."""
        modules = dict(backbone=self.backbone, neck=self.neck)
        if self.region_head is not None:
            modules['region_head'] = self.region_head
        if self.region_neck is not None:
            modules['region_neck'] = self.region_neck
        return nn.ModuleDict(modules)

    @staticmethod
    def _embed(encoder: nn.ModuleDict, images: torch.Tensor, boxes: Sequence[torch.Tensor]
               ) -> Tuple[torch.Tensor, List[torch.Tensor], List[torch.Tensor]]:
        """backbone -> neck (global) and region neck -> region projection and pooling.

        Args:
            encoder (nn.ModuleDict): the query encoder or the momentum encoder.
            images (Tensor): (B, 3, S, S) views.
            boxes (Sequence[Tensor]): per level (B, N_l, 4) regions in view pixels.

        Returns:
            tuple: (B, D) unit global embeddings, per level (B, N_l, D_l) unit region
            embeddings and (B, D_l, H_l, W_l) projected maps (empty lists without a
            region branch).
        """
        outs = encoder['backbone'](images)
        global_embedding = F.normalize(encoder['neck'](outs[-1:])[0], dim=1)
        if 'region_head' not in encoder:
            return global_embedding, [], []
        levels = encoder['region_neck'](outs) if 'region_neck' in encoder else outs[:-1]
        maps = encoder['region_head'].project(levels)
        return global_embedding, encoder['region_head'].pool(maps, boxes), maps

    def _regions(self, data_samples: List[DataSample], query: torch.Tensor
                 ) -> Tuple[Sequence[torch.Tensor], Sequence[torch.Tensor], Sequence[torch.Tensor]]:
        """Per level (B, N_l, 4) query and key boxes and (B, N_l) validity of the
        sliding windows, from each data sample's ``crop_boxes`` and ``flip``."""
        if self.region_head is None:
            return [], [], []
        crops = stack_sample_field(data_samples, 'crop_boxes', query.device, torch.float32)
        flips = stack_sample_field(data_samples, 'flip', query.device, torch.bool)
        return tuple(zip(*self.region_head.regions(crops, flips, query.shape[-2:])))

    @torch.no_grad()
    def _dequeue_and_enqueue(self, keys: torch.Tensor) -> None:
        """Replace the oldest queue entries by the (B, D) keys of all ranks."""
        keys = torch.cat(all_gather(keys))
        if self.queue_len % len(keys):
            raise ValueError(f'queue_len={self.queue_len} must be a multiple of the global '
                             f'batch size {len(keys)} (batch per rank x ranks; use '
                             'drop_last=True)')
        ptr = int(self.queue_ptr)
        self.queue[:, ptr:ptr + len(keys)] = keys.t()
        self.queue_ptr[0] = (ptr + len(keys)) % self.queue_len

    def loss(self, inputs: List[torch.Tensor],
             data_samples: List[DataSample]) -> Dict[str, torch.Tensor]:
        """Global and region losses of a batch.

        Args:
            inputs (list[Tensor]): ``[query, key]`` (B, 3, S, S) normalised views.
            data_samples (list[DataSample]): ``crop_boxes`` (2, 4) and ``flip`` each.

        Returns:
            dict[str, Tensor]: ``loss_global``, ``loss_region_<level>`` and
            ``num_regions_<level>`` (``loss_global`` only without ``region_head``).
        """
        query, key = inputs
        query_boxes, key_boxes, valid = self._regions(data_samples, query)
        query_global, query_regions, _ = self._embed(self._query_encoder(), query, query_boxes)
        with torch.no_grad():  # MoCo's shuffle BN: the key boxes travel with their images
            (key, *key_boxes), idx_unshuffle = batch_shuffle_ddp(key, *key_boxes)
            key_global, key_regions, key_maps = self._embed(self.momentum_encoder.module, key,
                                                            key_boxes)
            key_global, *key_regions = [batch_unshuffle_ddp(embedding, idx_unshuffle)
                                        for embedding in (key_global, *key_regions)]
        losses = dict(loss_global=self._info_nce(query_global, key_global))
        if self.region_head is not None:  # key_maps stay shuffled: order-free negatives
            losses.update(self.region_head.loss(query_regions, key_regions, valid, key_maps))
        self._dequeue_and_enqueue(key_global)
        return losses

    def _info_nce(self, query_global: torch.Tensor, key_global: torch.Tensor) -> torch.Tensor:
        """MoCo's InfoNCE of (B, D) unit queries against their keys and the queue."""
        positive = (query_global * key_global).sum(1, keepdim=True)  # (B, 1)
        negative = query_global @ self.queue.clone().detach()  # (B, queue_len)
        return self.head.loss(positive, negative)
