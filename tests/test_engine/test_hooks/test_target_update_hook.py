"""TargetUpdateHook: one target update per optimizer step, whatever the accumulation."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmssl_ext.engine.hooks import TargetUpdateHook


class CountingModel(torch.nn.Linear):

    def __init__(self):
        super().__init__(2, 1)
        self.updates_after = []  # parameter values seen by each update

    def update_target(self):
        self.updates_after.append(self.weight.detach().clone())


def run(accumulative_counts, max_iters):
    torch.manual_seed(0)
    model = CountingModel()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1),
                                 accumulative_counts=accumulative_counts)
    optim_wrapper.initialize_count_status(model, 0, max_iters)
    runner = SimpleNamespace(model=model, optim_wrapper=optim_wrapper)
    hook = TargetUpdateHook()
    hook.before_train(runner)
    updated_at, weights = [], []
    for iteration in range(max_iters):
        optim_wrapper.update_params(model(torch.randn(4, 2)).square().mean())
        hook.after_train_iter(runner, iteration)
        if len(model.updates_after) > len(updated_at):
            updated_at.append(iteration)
        weights.append(model.weight.detach().clone())
    return updated_at, model.updates_after, weights


@pytest.mark.parametrize('accumulative_counts, max_iters, expected', [
    (1, 3, [0, 1, 2]),
    (2, 5, [1, 3, 4]),  # the last, incomplete window still steps
    (3, 6, [2, 5]),
])
def test_updates_once_after_each_optimizer_step(accumulative_counts, max_iters, expected):
    updated_at, seen, weights = run(accumulative_counts, max_iters)
    assert updated_at == expected
    for iteration, weight in zip(updated_at, seen):
        assert torch.equal(weight, weights[iteration])  # after that iteration's step
    for iteration in range(1, max_iters):  # parameters only change where the hook fired
        assert (not torch.equal(weights[iteration], weights[iteration - 1])) == (
            iteration in expected)


def test_misconfiguration_fails_before_training():
    model = CountingModel()
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match='update_target'):
        TargetUpdateHook().before_train(
            SimpleNamespace(model=torch.nn.Linear(2, 1), optim_wrapper=optim_wrapper))
    with pytest.raises(TypeError, match='OptimWrapper'):
        TargetUpdateHook().before_train(
            SimpleNamespace(model=model, optim_wrapper=OptimWrapperDict(a=optim_wrapper)))
