"""SplitBatchNorm2d: per-group batch statistics (shuffle BN in one process)."""
import pytest
import torch
import torch.nn.functional as F

import mmssl_ext  # noqa: F401
from mmssl_ext.models.utils import SplitBatchNorm2d


def _reference(x, bn, splits):
    """Each group {n : n % splits == k} through its own F.batch_norm call."""
    out = torch.empty_like(x)
    means, variances = [], []
    for k in range(splits):
        mean, var = bn.running_mean.clone(), bn.running_var.clone()
        out[k::splits] = F.batch_norm(x[k::splits], mean, var, bn.weight, bn.bias, True,
                                      bn.momentum, bn.eps)
        means.append(mean)
        variances.append(var)
    return out, torch.stack(means).mean(0), torch.stack(variances).mean(0)


def test_groups_are_normalised_separately_with_gradients():
    torch.manual_seed(0)
    bn = SplitBatchNorm2d(3, num_splits=4)
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    x = torch.randn(8, 3, 5, 5) * torch.arange(1, 9.).view(8, 1, 1, 1)
    x.requires_grad_(True)
    expected, mean, var = _reference(x, bn, 4)
    out = bn(x)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(bn.running_mean, mean)
    torch.testing.assert_close(bn.running_var, var)
    assert int(bn.num_batches_tracked) == 1
    # samples 0 and 4 share a group: normalised with (only) their statistics
    group = x[0::4].detach()
    manual = (group - group.mean((0, 2, 3), keepdim=True)) / torch.sqrt(
        group.var((0, 2, 3), unbiased=False, keepdim=True) + bn.eps)
    manual = manual * bn.weight.view(1, 3, 1, 1) + bn.bias.view(1, 3, 1, 1)
    torch.testing.assert_close(out[0::4].detach(), manual, atol=1e-5, rtol=1e-5)
    grad = torch.randn_like(out)
    (out * grad).sum().backward()
    reference_x = x.detach().clone().requires_grad_(True)
    reference_bn = SplitBatchNorm2d(3, num_splits=1)
    reference_bn.load_state_dict(bn.state_dict())
    reference_out, _, _ = _reference(reference_x, reference_bn, 4)
    (reference_out * grad).sum().backward()
    torch.testing.assert_close(x.grad, reference_x.grad)


def test_eval_and_one_split_are_plain_batch_norm():
    torch.manual_seed(0)
    bn, plain = SplitBatchNorm2d(3, num_splits=2), torch.nn.BatchNorm2d(3)
    x = torch.randn(4, 3, 2, 2)
    bn(x)
    plain.load_state_dict(bn.state_dict())
    bn.eval(), plain.eval()
    torch.testing.assert_close(bn(x), plain(x))
    one = SplitBatchNorm2d(3)
    torch.testing.assert_close(one(x), torch.nn.BatchNorm2d(3)(x))


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match='num_splits'):
        SplitBatchNorm2d(3, num_splits=0)
    with pytest.raises(ValueError, match='multiple of num_splits=4'):
        SplitBatchNorm2d(3, num_splits=4)(torch.randn(6, 3, 2, 2))


def test_resnet_built_with_split_bn_loads_into_a_plain_resnet():
    from mmengine.registry import DefaultScope
    from mmpretrain.models import ResNet

    with DefaultScope.overwrite_default_scope('mmpretrain'):
        split = ResNet(depth=18, base_channels=8, norm_cfg=dict(type='SplitBN', num_splits=2))
    assert isinstance(split.bn1, SplitBatchNorm2d) and split.bn1.num_splits == 2
    split(torch.randn(4, 3, 32, 32))  # updates the running statistics
    plain = ResNet(depth=18, base_channels=8)
    plain.load_state_dict(split.state_dict(), strict=True)
    split.eval(), plain.eval()
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(split(x)[-1], plain(x)[-1])
