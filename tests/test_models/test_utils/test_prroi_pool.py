"""Exact Precise RoI Pooling: numerical integral, gradients, AMP, mmcv's CUDA kernel."""
import pytest
import torch

from mmssl_ext.models.utils.prroi_pool import hat_weights, prroi_pool_1x1


def _bilinear(features, y, x):
    """Bilinear interpolant of (C, H, W) features at points (P,), zero outside the map."""
    height, width = features.shape[-2:]
    padded = torch.nn.functional.pad(features, (1, 1, 1, 1))  # pixel i -> padded i + 1
    y0, x0 = y.floor(), x.floor()
    value = 0
    for dy in (0, 1):
        for dx in (0, 1):
            yi, xi = y0 + dy, x0 + dx
            weight = (1 - (y - yi).abs()) * (1 - (x - xi).abs())
            inside = (yi >= -1) & (yi <= height) & (xi >= -1) & (xi <= width)
            yc = (yi + 1).clamp(0, height + 1).long()
            xc = (xi + 1).clamp(0, width + 1).long()
            value = value + padded[:, yc, xc] * (weight * inside)
    return value


def _numerical_pool(features, box, steps=400):
    """Midpoint-rule integral of the interpolant over one box, divided by its area."""
    x1, y1, x2, y2 = box.tolist()
    ys = y1 + (torch.arange(steps, dtype=torch.float64) + 0.5) * (y2 - y1) / steps
    xs = x1 + (torch.arange(steps, dtype=torch.float64) + 0.5) * (x2 - x1) / steps
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    return _bilinear(features, grid_y.flatten(), grid_x.flatten()).mean(-1)


def _random_boxes(batch, num, low, high, generator):
    corners = low + (high - low) * torch.rand(batch, num, 2, 2, generator=generator,
                                              dtype=torch.float64)
    top_left, bottom_right = corners.min(2).values, corners.max(2).values
    return torch.cat([top_left, bottom_right], -1)  # (x1, y1, x2, y2)


def test_hat_weights_sum_to_length_inside_the_map():
    low, high = torch.tensor([1.3, 0.0]), torch.tensor([4.2, 0.5])
    weights = hat_weights(low, high, 8)
    assert torch.allclose(weights.sum(-1), high - low)
    assert (weights >= 0).all()


def test_matches_numerical_integral_on_random_maps_and_boxes():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(2, 3, 7, 9, generator=generator, dtype=torch.float64)
    # boxes partly outside the map too (values there count as 0)
    boxes = _random_boxes(2, 5, -2., 10., generator)
    pooled = prroi_pool_1x1(features, boxes)
    assert pooled.shape == (2, 5, 3) and pooled.dtype == torch.float64
    for b in range(2):
        for n in range(5):
            expected = _numerical_pool(features[b], boxes[b, n])
            assert torch.allclose(pooled[b, n], expected, atol=2e-4), (b, n)


def test_spatial_scale_and_constant_map():
    features = torch.full((1, 2, 14, 14), 3.0)
    boxes = torch.tensor([[[16., 32., 64., 80.]]])  # inside the map at 1/16
    assert torch.allclose(prroi_pool_1x1(features, boxes, 1 / 16), torch.full((1, 1, 2), 3.))
    empty = torch.tensor([[[16., 32., 16., 80.]]])
    assert torch.equal(prroi_pool_1x1(features, empty, 1 / 16), torch.zeros(1, 1, 2))


def test_gradients_match_finite_differences():
    generator = torch.Generator().manual_seed(1)
    features = torch.randn(2, 2, 5, 6, generator=generator, dtype=torch.float64,
                           requires_grad=True)
    boxes = _random_boxes(2, 3, 0.3, 4.7, generator).requires_grad_()
    assert torch.autograd.gradcheck(lambda f, b: prroi_pool_1x1(f, b, 1.0), (features, boxes))


def test_accumulates_in_float32_under_autocast():
    features = torch.randn(1, 4, 6, 6)
    boxes = torch.tensor([[[0.5, 0.5, 4.0, 3.0]]])
    with torch.autocast('cpu', dtype=torch.bfloat16):
        pooled = prroi_pool_1x1(features.bfloat16(), boxes)
    assert pooled.dtype == torch.float32
    assert torch.allclose(pooled, prroi_pool_1x1(features.bfloat16().float(), boxes))


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match='boxes'):
        prroi_pool_1x1(torch.zeros(1, 2, 4, 4), torch.zeros(1, 4))


@pytest.mark.gpu
def test_equals_mmcv_cuda_kernel():
    from mmssl_ext.models.utils import prroi_pool
    if prroi_pool._mmcv_prroi_pool is None:  # mmcv-lite: use_mmcv would fall back to ours
        pytest.skip("mmcv's compiled ops are not installed")
    generator = torch.Generator().manual_seed(2)
    features = torch.randn(2, 8, 14, 14, generator=generator).cuda()
    boxes = _random_boxes(2, 6, 0., 224., generator).float().cuda()
    ours = prroi_pool_1x1(features, boxes, 1 / 16)
    mmcv = prroi_pool_1x1(features, boxes, 1 / 16, use_mmcv=True)
    assert torch.allclose(ours, mmcv, atol=1e-4)
    assert torch.allclose(ours.cpu(), prroi_pool_1x1(features.cpu(), boxes.cpu(), 1 / 16),
                          atol=1e-5)
