"""ReSim: Region Similarity Representation Learning (Xiao et al., ICCV 2021)."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.dist import all_gather
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.models.utils import batch_unshuffle_ddp
from mmpretrain.structures import DataSample

from mmssl_ext.registry import MODELS
from ..utils.batch_shuffle import batch_shuffle_ddp
from ..utils.ema import IterCosineEMA


@MODELS.register_module()
class ReSim(BaseSelfSupervisor):
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
    iterations by :class:`IterCosineEMA`.

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

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 region_head: Optional[dict] = None,
                 region_neck: Optional[dict] = None,
                 queue_len: int = 65536,
                 feat_dim: int = 128,
                 base_momentum: float = 0.001,
                 end_momentum: float = 0.001,
                 pretrained: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if queue_len <= 0:
            raise ValueError(f'queue_len must be > 0, got {queue_len}')
        for name, value in (('base_momentum', base_momentum), ('end_momentum', end_momentum)):
            if not 0. <= value <= 1.:
                raise ValueError(f'{name} must be in [0, 1], got {value}')
        super().__init__(backbone=backbone, neck=neck, head=head, pretrained=pretrained,
                         data_preprocessor=data_preprocessor or dict(
                             type='ReSimDataPreprocessor'),
                         init_cfg=init_cfg)
        if region_neck is not None and region_head is None:
            raise ValueError('region_neck needs a region_head')
        temperature = getattr(self.head, 'temperature', 1.)
        if temperature <= 0:
            raise ValueError(f'head.temperature must be > 0, got {temperature}')
        self.region_neck = MODELS.build(region_neck) if region_neck else None
        self.region_head = MODELS.build(region_head) if region_head else None
        self.momentum_encoder = IterCosineEMA(self._query_encoder(), momentum=base_momentum,
                                              end_momentum=end_momentum)
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

    def init_weights(self) -> None:
        """Initialise, then make a fresh momentum encoder an exact copy."""
        super().init_weights()
        if self.momentum_encoder.steps == 0:
            self.momentum_encoder.update_parameters(self._query_encoder())

    @torch.no_grad()
    def update_target(self) -> None:
        """One momentum step of the key encoder towards the query encoder."""
        self.momentum_encoder.update_parameters(self._query_encoder())

    @staticmethod
    def _encode(encoder: nn.ModuleDict,
                images: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """(B, 3, S, S) images -> (B, D) unit global embeddings and per-level
        (B, D_l, H_l, W_l) projected region maps."""
        outs = encoder['backbone'](images)
        global_embedding = F.normalize(encoder['neck'](outs[-1:])[0], dim=1)
        if 'region_head' not in encoder:
            return global_embedding, []
        levels = encoder['region_neck'](outs) if 'region_neck' in encoder else outs[:-1]
        return global_embedding, encoder['region_head'].project(levels)

    @staticmethod
    def _geometry(data_samples: List[DataSample],
                  device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, 2, 4) crop boxes and (B,) bool shared flips from the data samples."""
        if not data_samples or 'crop_boxes' not in data_samples[0]:
            raise KeyError("ReSim needs each data sample's 'crop_boxes' and 'flip': use "
                           "ReSimViews and PackInputs(algorithm_keys=['crop_boxes'])")
        crops = torch.as_tensor(np.stack([np.asarray(s.crop_boxes) for s in data_samples]),
                                dtype=torch.float32, device=device)
        flips = torch.tensor([bool(s.flip) for s in data_samples], device=device)
        return crops, flips

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
            ``num_regions_<level>``.
        """
        query, key = inputs
        if self.region_head is None:
            return self._global_loss(query, key)
        crops, flips = self._geometry(data_samples, query.device)
        query_boxes, key_boxes, valid = zip(*self.region_head.regions(
            crops, flips, query.shape[-2:]))
        query_global, query_maps = self._encode(self._query_encoder(), query)
        query_regions = self.region_head.pool(query_maps, query_boxes)
        with torch.no_grad():
            sizes = [boxes.shape[1] for boxes in key_boxes]
            (key, boxes), idx_unshuffle = batch_shuffle_ddp(key, torch.cat(key_boxes, 1))
            key_global, key_maps = self._encode(self.momentum_encoder.module, key)
            key_regions = self.region_head.pool(key_maps, boxes.split(sizes, 1))
            key_global = batch_unshuffle_ddp(key_global, idx_unshuffle)
            key_regions = [batch_unshuffle_ddp(level, idx_unshuffle) for level in key_regions]
            dense_keys = self.region_head.dense(key_maps)  # order-free negatives
        losses = dict(loss_global=self._info_nce(query_global, key_global))
        losses.update(self.region_head.loss(query_regions, key_regions, valid, dense_keys))
        self._dequeue_and_enqueue(key_global)
        return losses

    def _info_nce(self, query_global: torch.Tensor, key_global: torch.Tensor) -> torch.Tensor:
        """MoCo's InfoNCE of (B, D) unit queries against their keys and the queue."""
        positive = (query_global * key_global).sum(1, keepdim=True)  # (B, 1)
        negative = query_global @ self.queue.clone().detach()  # (B, queue_len)
        return self.head.loss(positive, negative)

    def _global_loss(self, query: torch.Tensor, key: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``region_head=None``: MoCo v2 alone (the baseline ReSim's cost is compared to)."""
        query_global = self._encode(self._query_encoder(), query)[0]
        with torch.no_grad():
            (key, ), idx_unshuffle = batch_shuffle_ddp(key)
            key_global = batch_unshuffle_ddp(
                self._encode(self.momentum_encoder.module, key)[0], idx_unshuffle)
        losses = dict(loss_global=self._info_nce(query_global, key_global))
        self._dequeue_and_enqueue(key_global)
        return losses
