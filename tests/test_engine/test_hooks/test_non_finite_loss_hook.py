"""NonFiniteLossHook on a real Runner: stop before saving, or skip exactly the bad steps."""
import math

import pytest
import torch
from utils.toy_runner import toy_runner

from mmssl_ext.engine.hooks import NonFiniteLossHook

NAN = float('nan')


def _hook(max_skips):
    return dict(non_finite_loss=dict(type='NonFiniteLossHook', max_skips=max_skips))


def test_stops_at_the_first_non_finite_loss_without_saving_it(tmp_path):
    inputs = [[1., 0.], [1., 1.], [NAN, 1.], [1., 3.]]
    runner = toy_runner(tmp_path, 4, inputs, default_hooks=_hook(0))
    with pytest.raises(FloatingPointError, match=r'iteration 3: loss=nan.*last checkpoint: '
                       r'.*iter_2\.pth'):
        runner.train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_1.pth', 'iter_2.pth']
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_2.pth')
    for value in torch.load(tmp_path / 'iter_2.pth', weights_only=True)['state_dict'].values():
        assert torch.isfinite(value).all()
    # the NaN iteration's step never reached the parameters
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())


def test_skipped_steps_leave_exactly_the_run_without_them(tmp_path):
    clean = [[1., 0.], [1., 1.], [1., 3.], [1., 4.]]
    with_nan = clean[:2] + [[NAN, 2.]] + clean[2:]
    reference = toy_runner(tmp_path / 'clean', 4, clean)
    reference.train()
    skipping = toy_runner(tmp_path / 'nan', 5, with_nan, default_hooks=_hook(1))
    skipping.train()
    for ours, expected in zip(skipping.model.parameters(), reference.model.parameters()):
        assert torch.equal(ours, expected)


def test_stops_after_more_than_max_skips_consecutive(tmp_path):
    inputs = [[1., 0.], [NAN, 1.], [1., 2.], [NAN, 3.], [math.inf, 4.], [1., 5.]]
    with pytest.raises(FloatingPointError, match='iteration 5: loss=inf'):
        toy_runner(tmp_path, 6, inputs, default_hooks=_hook(1)).train()


def test_max_skips_is_validated():
    with pytest.raises(ValueError, match='max_skips'):
        NonFiniteLossHook(max_skips=-1)
