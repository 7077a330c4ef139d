"""Batch normalisation over disjoint sub-batches: MoCo's shuffle BN inside one process."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.registry import MODELS as MMENGINE_MODELS


# In mmengine's root registry, as mmcv's norm layers ('BN', 'SyncBN', ...), so that
# build_norm_layer finds it from any scope (mmpretrain, mmdet, mmseg).
@MMENGINE_MODELS.register_module('SplitBN')
class SplitBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d`` that, in training, normalises ``num_splits`` disjoint sub-batches
    separately, as ``num_splits`` devices would.

    MoCo-style methods (MoCo v2, ReSim) shuffle the key batch across devices before the
    key encoder ("shuffle BN") so that a query and its key are not normalised with the
    statistics of the same images: otherwise the positive pair shares a batch-statistics
    signature that the queue's negatives (older batches) lack, and the encoder learns to
    "cheat" with it (MoCo, Sec. 3.3). In one process the shuffle is a permutation of the
    local batch and BN statistics do not depend on order, so it does nothing. With this
    layer in the encoders (``norm_cfg=dict(type='SplitBN', num_splits=s)``) sample ``n``
    of an (N, C, H, W) batch is normalised with the statistics of the samples ``m`` with
    ``m % s == n % s``; the query batch keeps its order and the key batch is shuffled
    first, so their groups hold different images: shuffle BN over ``s`` devices.

    Running statistics are updated with the mean over the groups of each group's
    statistics; evaluation is plain ``BatchNorm2d``. The parameters and buffers are
    those of ``BatchNorm2d`` (same state dict keys), so the weights load into a plain BN.

    Args:
        num_features (int): C.
        num_splits (int): number of groups; the batch size must be a multiple.
            Defaults to 1 (plain BatchNorm2d).
        **kwargs: ``nn.BatchNorm2d`` arguments (``momentum`` must not be None).
    """

    def __init__(self, num_features: int, num_splits: int = 1, **kwargs) -> None:
        super().__init__(num_features, **kwargs)
        if num_splits < 1:
            raise ValueError(f'num_splits must be >= 1, got {num_splits}')
        if self.momentum is None:
            raise ValueError('SplitBatchNorm2d needs a momentum (not None)')
        self.num_splits = num_splits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        splits = self.num_splits
        if not self.training or splits == 1:
            return super().forward(x)
        batch, channels, height, width = x.shape
        if batch % splits:
            raise ValueError(f'batch size {batch} is not a multiple of num_splits={splits}')
        weight = self.weight.repeat(splits) if self.affine else None
        bias = self.bias.repeat(splits) if self.affine else None
        running_mean = self.running_mean.repeat(splits)
        running_var = self.running_var.repeat(splits)
        # (N, C, H, W) -> (N / s, s * C, H, W): channel k * C + c holds channel c of the
        # samples n with n % s == k, so each (group, channel) gets its own statistics.
        out = F.batch_norm(x.reshape(batch // splits, splits * channels, height, width),
                           running_mean, running_var, weight, bias, True, self.momentum,
                           self.eps)
        with torch.no_grad():
            self.running_mean.copy_(running_mean.view(splits, channels).mean(0))
            self.running_var.copy_(running_var.view(splits, channels).mean(0))
            self.num_batches_tracked.add_(1)
        return out.view(batch, channels, height, width)
