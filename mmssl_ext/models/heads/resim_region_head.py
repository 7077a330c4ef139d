"""ReSim's region branch: projection, sliding windows, Precise RoI pooling, region loss."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmssl_ext.registry import MODELS
from ..utils.prroi_pool import prroi_pool_1x1
from mmssl_ext.structures import query_key_regions, sliding_windows


def _projection(in_channels: int, channels: int) -> nn.Module:
    """Paper Sec. 3.4: 3x3 conv, BN, ReLU, 3x3 conv to ``channels``."""
    return nn.Sequential(
        nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True), nn.Conv2d(channels, channels, 3, padding=1))


@MODELS.register_module()
class ReSimRegionHead(BaseModule):
    """Region similarity on one or more feature levels (ReSim-C4: C4; ReSim-FPN: P3, P4).

    Per level ``l``: windows of ``windows[l]`` px slid by ``window_strides[l]`` px over the
    query view (:func:`sliding_windows`; by default, as the reference code, only windows
    that end strictly inside the view: 8 x 8 on P3 at 224 px, 9 x 9 with
    ``edge_windows=True``), mapped into the key view through the crop geometry; windows
    that do not map inside the key view are invalid. Feature maps are
    projected (``projection=True``: two 3x3 convs to ``proj_channels``, BN + ReLU after
    the first, as the paper; False: the raw features, as the reference's FPN code), each
    region is pooled to one vector by exact Precise RoI Pooling at ``1 / strides[l]`` and
    L2-normalised, and :class:`RegionInfoNCELoss` compares query and key regions.
    ``negatives='regions'`` (paper): the negatives are the other key regions of the batch;
    ``'dense'`` (reference code, paper appendix): every position of the projected key
    maps average-pooled with a ``dense_kernels[l]`` kernel at stride 1 (3 x 3 on every
    level, as the reference: 26 x 26 positions on a 28 x 28 P3 map, the appendix's count,
    although ``round(32 / 8) = 4`` would match the P3 window). Whether a level's
    negatives come from all ranks or this rank only is its loss's ``gather``.

    Args:
        in_channels (Sequence[int]): channels of each level's feature map.
        strides (Sequence[int]): feature stride of each level in input pixels.
        windows (Sequence[int]): window side of each level in view pixels.
        window_strides (Sequence[int]): window step of each level in view pixels.
        level_names (Sequence[str]): names used in the logged keys, e.g. ``('p3', 'p4')``.
        view_size (int): side of the query and key views. Defaults to 224.
        projection (bool): project before pooling. Defaults to True.
        proj_channels (int): projection width. Defaults to 128.
        edge_windows (bool): also place windows that end on the view's far edge
            (:func:`sliding_windows`). Defaults to False (the reference's grid).
        negatives (str): ``'regions'`` or ``'dense'``. Defaults to 'regions'.
        dense_kernels (int | Sequence[int]): average-pooling kernel of the dense
            negatives, shared or one per level. Defaults to 3 (the reference's).
        loss (dict | Sequence[dict]): :class:`RegionInfoNCELoss` config, shared by all
            levels or one per level (e.g. ``gather=False`` on P3, as the paper's appendix).
        use_mmcv_prroi (bool): mmcv's CUDA kernel for CUDA tensors. Defaults to False.
        init_cfg (dict, optional): mmengine initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 strides: Sequence[int],
                 windows: Sequence[int],
                 window_strides: Sequence[int],
                 level_names: Sequence[str],
                 view_size: int = 224,
                 projection: bool = True,
                 proj_channels: int = 128,
                 edge_windows: bool = False,
                 negatives: str = 'regions',
                 dense_kernels: Union[int, Sequence[int]] = 3,
                 loss: Union[dict, Sequence[dict]] = dict(type='RegionInfoNCELoss',
                                                          temperature=0.2),
                 use_mmcv_prroi: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        num_levels = len(in_channels)
        for name, value in (('strides', strides), ('windows', windows),
                            ('window_strides', window_strides), ('level_names', level_names)):
            if len(value) != num_levels:
                raise ValueError(f'{name} must have one entry per level ({num_levels}), '
                                 f'got {value}')
        if min(strides) <= 0:
            raise ValueError(f'strides must be > 0, got {strides}')
        if negatives not in ('regions', 'dense'):
            raise ValueError(f"negatives must be 'regions' or 'dense', got {negatives!r}")
        losses = [loss] * num_levels if isinstance(loss, dict) else list(loss)
        if len(losses) != num_levels:
            raise ValueError(f'loss must be one config or one per level ({num_levels}), '
                             f'got {len(losses)}')
        kernels = ((dense_kernels, ) * num_levels if isinstance(dense_kernels, int)
                   else tuple(dense_kernels))
        fits = all(0 < kernel <= view_size // stride for kernel, stride in zip(kernels, strides))
        if len(kernels) != num_levels or (negatives == 'dense' and not fits):
            raise ValueError(f'dense_kernels must be one kernel or one per level ({num_levels}),'
                             f' each > 0 and within the feature maps of {view_size} px views, '
                             f'got {dense_kernels}')
        self.negatives, self.dense_kernels = negatives, kernels
        self.strides, self.level_names = tuple(strides), tuple(level_names)
        self.view_size, self.use_mmcv_prroi = view_size, use_mmcv_prroi
        for level, (window, step) in enumerate(zip(windows, window_strides)):
            try:
                grid = sliding_windows((view_size, view_size), window, step, edge_windows)
            except ValueError as error:
                raise ValueError(f'windows[{level}] / window_strides[{level}]: {error}') \
                    from None
            self.register_buffer(f'windows_{level}', grid, persistent=False)
        self.projections = nn.ModuleList(
            _projection(channels, proj_channels) if projection else nn.Identity()
            for channels in in_channels)
        self.loss_modules = nn.ModuleList(MODELS.build(cfg) for cfg in losses)

    def window_boxes(self) -> List[torch.Tensor]:
        """The (N_l, 4) query windows of each level."""
        return [getattr(self, f'windows_{level}') for level in range(len(self.strides))]

    def regions(self, crops: torch.Tensor, flips: torch.Tensor, view_size: Sequence[int]
                ) -> List[Tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Query boxes, key boxes and validity of every level.

        Args:
            crops (Tensor): (B, 2, 4) query and key crop boxes in original-image pixels.
            flips (Tensor): (B,) bool shared flips.
            view_size (Sequence[int]): ``(height, width)`` of the views.

        Returns:
            list[tuple[Tensor]]: per level (B, N_l, 4) query boxes, (B, N_l, 4) key
            boxes (view pixels) and (B, N_l) bool validity.
        """
        if tuple(view_size) != (self.view_size, self.view_size):
            raise ValueError(f'the windows were laid out for {self.view_size} px views, '
                             f'got views of {tuple(view_size)}: set view_size')
        return [query_key_regions(windows, crops, flips, view_size, view_size)
                for windows in self.window_boxes()]

    def project(self, features: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Per level (B, C_l, H_l, W_l) features -> (B, D_l, H_l, W_l) projected maps."""
        return [projection(level) for projection, level in zip(self.projections, features)]

    def pool(self, maps: Sequence[torch.Tensor],
             boxes: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Precise-RoI-pooled, L2-normalised region embeddings.

        Args:
            maps (Sequence[Tensor]): per level (B, D_l, H_l, W_l) projected maps.
            boxes (Sequence[Tensor]): per level (B, N_l, 4) boxes in view pixels.

        Returns:
            list[Tensor]: per level (B, N_l, D_l) float32 unit vectors.
        """
        return [F.normalize(prroi_pool_1x1(level, level_boxes, 1 / stride,
                                           self.use_mmcv_prroi), dim=-1)
                for level, level_boxes, stride in zip(maps, boxes, self.strides)]

    def dense(self, maps: Sequence[torch.Tensor]) -> List[Optional[torch.Tensor]]:
        """Per level (B, D_l, h_l, w_l) unit window-pooled key positions for
        ``negatives='dense'``, else None per level."""
        if self.negatives == 'regions':
            return [None] * len(maps)
        return [F.normalize(F.avg_pool2d(level.float(), kernel, stride=1), dim=1)
                for level, kernel in zip(maps, self.dense_kernels)]

    def loss(self, query: Sequence[torch.Tensor], key: Sequence[torch.Tensor],
             valid: Sequence[torch.Tensor],
             key_maps: Sequence[torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Region losses and valid-region counts of every level.

        Args:
            query, key (Sequence[Tensor]): per level (B, N_l, D) embeddings.
            valid (Sequence[Tensor]): per level (B, N_l) bool.
            key_maps (Sequence[Tensor]): per level (B, D_l, H_l, W_l) projected key
                maps, in any batch order (the dense negatives of ``negatives='dense'``).

        Returns:
            dict[str, Tensor]: ``loss_region_<level>`` (summed into the total loss) and
            ``num_regions_<level>`` (this rank's valid regions, logged only).
        """
        losses = {}
        for name, loss_module, *level in zip(self.level_names, self.loss_modules, query, key,
                                             valid, self.dense(key_maps)):
            loss, count = loss_module(*level)
            losses[f'loss_region_{name}'] = loss
            losses[f'num_regions_{name}'] = count
        return losses
