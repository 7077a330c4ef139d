"""CPUAutocastOptimWrapper: bf16 autocast forward on CPU, fp32 parameters and update."""
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from torch import nn

import mmssl_ext  # noqa: F401


def test_forward_in_bfloat16_update_in_float32():
    torch.manual_seed(0)
    model = nn.Linear(8, 4)
    weight_before = model.weight.detach().clone()
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        wrapper = build_optim_wrapper(model, dict(type='CPUAutocastOptimWrapper',
                                                  optimizer=dict(type='SGD', lr=0.1)))
    inputs = torch.randn(3, 8)
    assert model(inputs).dtype == torch.float32
    with wrapper.optim_context(model):
        outputs = model(inputs)
    assert outputs.dtype == torch.bfloat16
    wrapper.update_params(outputs.float().sum())

    # d(sum(W x + b))/dW = sum_b x for every output row; SGD: W -= lr * grad.
    expected = weight_before - 0.1 * inputs.sum(0).expand(4, 8)
    assert model.weight.dtype == torch.float32
    torch.testing.assert_close(model.weight.detach(), expected, atol=2e-2, rtol=0)
    assert not torch.equal(model.weight.detach(), weight_before)
