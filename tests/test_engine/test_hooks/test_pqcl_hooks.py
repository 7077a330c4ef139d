"""PQCL's training hooks and its weight-decay schedule."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.optim.scheduler import CosineAnnealingParamScheduler

from mmssl_ext.engine.hooks import (FreezeLastLayerHook, PerParamGradClipHook,
                                    TeacherTempWarmupHook)


def test_teacher_temperature_follows_linspace_then_constant():
    hook = TeacherTempWarmupHook(0.04, 0.07, 30)
    expected = np.linspace(0.04, 0.07, 30)
    model = SimpleNamespace(teacher_temp=None)
    runner = SimpleNamespace(model=model, epoch=0)
    hook.before_train(runner)
    for epoch in (0, 1, 17, 29):
        runner.epoch = epoch
        hook.before_train_epoch(runner)
        assert model.teacher_temp == pytest.approx(expected[epoch])
    runner.epoch = 30
    hook.before_train_epoch(runner)
    assert model.teacher_temp == 0.07 and hook.temperature(500) == 0.07


def test_teacher_temperature_reaches_the_ddp_wrapped_model():
    from mmengine.model import MMDistributedDataParallel
    inner = torch.nn.Linear(1, 1)
    inner.teacher_temp = 1.
    wrapped = MMDistributedDataParallel.__new__(MMDistributedDataParallel)
    torch.nn.Module.__init__(wrapped)
    wrapped.module = inner
    TeacherTempWarmupHook(0.04, 0.07, 3).before_train_epoch(
        SimpleNamespace(model=wrapped, epoch=1))
    assert inner.teacher_temp == pytest.approx(0.055)


class Net(torch.nn.Module):

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Linear(3, 3)
        self.last_layer = torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.last_layer(self.body(x))


def _runner(clip_grad=None):
    torch.manual_seed(0)
    model = Net()
    wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.1),
                           clip_grad=clip_grad)
    return SimpleNamespace(model=model, optim_wrapper=wrapper, epoch=0)


def test_last_layer_frozen_during_the_first_epoch_only():
    runner = _runner()
    hook = FreezeLastLayerHook(epochs=1)
    hook.before_train(runner)
    frozen = runner.model.last_layer.weight.detach().clone()
    body = runner.model.body.weight.detach().clone()
    hook.before_train_epoch(runner)
    runner.optim_wrapper.update_params(runner.model(torch.randn(4, 3)).square().sum())
    assert torch.equal(runner.model.last_layer.weight, frozen)
    assert not torch.equal(runner.model.body.weight, body)
    runner.epoch = 1
    hook.before_train_epoch(runner)
    runner.optim_wrapper.update_params(runner.model(torch.randn(4, 3)).square().sum())
    assert not torch.equal(runner.model.last_layer.weight, frozen)
    hook.after_train(runner)


def test_freeze_hook_without_matching_parameters_fails():
    runner = _runner()
    with pytest.raises(ValueError, match='keys'):
        FreezeLastLayerHook(keys=('nothing', )).before_train(runner)


def test_each_parameter_gradient_is_clipped_separately():
    runner = _runner()
    hook = PerParamGradClipHook(max_norm=0.5)
    hook.before_train(runner)
    seen = {}
    runner.optim_wrapper.optimizer.register_step_pre_hook(
        lambda opt, args, kwargs: seen.update(
            {id(p): p.grad.clone() for g in opt.param_groups for p in g['params']}))
    params = list(runner.model.parameters())
    loss = runner.model(torch.randn(8, 3) * 10).square().sum()
    loss.backward()
    raw = [p.grad.clone() for p in params]
    runner.optim_wrapper.step()
    for param, grad in zip(params, raw):
        norm = grad.norm()
        expected = grad * (0.5 / (norm + 1e-6)) if norm > 0.5 else grad
        assert torch.allclose(seen[id(param)], expected, atol=1e-6)
    assert any(g.norm() > 0.5 for g in raw)


def test_clip_hook_refuses_a_global_clip_grad():
    with pytest.raises(ValueError, match='clip_grad'):
        PerParamGradClipHook().before_train(_runner(clip_grad=dict(max_norm=1.)))


def test_weight_decay_cosine_keeps_no_decay_groups_at_zero():
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    optimizer = torch.optim.AdamW([dict(params=[params[0]], weight_decay=0.04),
                                   dict(params=[params[1]], weight_decay=0.)])
    # the recipe's entry: eta_min_ratio=10 takes 0.04 to 0.4 and leaves 0 at 0
    scheduler = CosineAnnealingParamScheduler(optimizer, 'weight_decay', eta_min_ratio=10.,
                                              begin=0, end=10, by_epoch=False)
    values = []
    for _ in range(10):
        values.append([g['weight_decay'] for g in optimizer.param_groups])
        scheduler.step()
    for step, (decay, none) in enumerate(values):
        expected = 0.4 + (0.04 - 0.4) * (1 + math.cos(math.pi * step / 10)) / 2
        assert decay == pytest.approx(expected) and none == 0.
