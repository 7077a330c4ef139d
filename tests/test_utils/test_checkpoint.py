"""Weights-only loading of mmengine checkpoints (torch >= 2.6 default)."""
import io

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmssl_ext  # noqa: F401  (allow-lists the safe types)
from mmssl_ext.utils import PortableHistoryBuffer, load_weights_only, make_portable


def _mmengine_style_checkpoint():
    """A checkpoint dict shaped like mmengine's Runner.save_checkpoint output."""
    hub = MessageHub(f'ckpt-test-{np.random.randint(1 << 30)}')
    for step, loss in enumerate([1.0, 0.5, np.float32(0.25)]):
        hub.update_scalar('train/loss', loss)
        hub.update_scalar('train/lr', np.float64(1e-3 * (step + 1)))
    hub.update_info('iter', np.int64(3))
    hub.update_info('epoch', 1)
    return {
        'meta': {'epoch': 1, 'iter': np.int64(3), 'seed': np.int64(0),
                 'experiment_name': 'x', 'dataset_meta': {'classes': ('a', 'b')}},
        'state_dict': {'w': torch.randn(2, 2)},
        'message_hub': hub.state_dict(),
        'optimizer': {'state': {0: {'step': torch.tensor(3.), 'exp_avg': torch.zeros(2)}},
                      'param_groups': [{'lr': 1e-3, 'params': [0]}]},
    }


def _save(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return buffer


def test_stock_mmengine_checkpoint_needs_unsafe_globals():
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(
        _save(_mmengine_style_checkpoint()))
    assert any('getattr' in name for name in unsafe)
    with pytest.raises(Exception, match='getattr|scalar'):
        torch.load(_save(_mmengine_style_checkpoint()), weights_only=True)


def test_portable_checkpoint_loads_weights_only_and_restores_hub():
    checkpoint = _mmengine_style_checkpoint()
    make_portable(checkpoint)
    assert type(checkpoint['meta']['iter']) is int
    assert type(checkpoint['message_hub']['runtime_info']['iter']) is int
    buffer = _save(checkpoint)
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(buffer)
    assert not any('getattr' in name or 'scalar' in name for name in unsafe)

    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    assert loaded['meta']['iter'] == 3
    torch.testing.assert_close(loaded['state_dict']['w'], checkpoint['state_dict']['w'])

    hub = MessageHub(f'ckpt-restore-{np.random.randint(1 << 30)}')
    hub.load_state_dict(loaded['message_hub'])
    loss = hub.get_scalar('train/loss')
    assert isinstance(loss, HistoryBuffer)
    np.testing.assert_allclose(loss.data[0], [1.0, 0.5, 0.25])
    assert loss.mean() == pytest.approx(1.75 / 3)
    assert loss.current() == pytest.approx(0.25)
    assert hub.get_info('iter') == 3


def test_portable_history_buffer_keeps_data():
    buffer = HistoryBuffer([1.0, 2.0], [1, 1], max_length=5)
    portable = PortableHistoryBuffer.from_buffer(buffer)
    assert portable.max_length == 5
    np.testing.assert_array_equal(portable.data[0], buffer.data[0])
    assert 'statistics_methods' not in portable.__getstate__()
    assert portable.max() == 2.0


def test_load_weights_only_refuses_arbitrary_objects(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'obj': _Arbitrary()}, path)
    with pytest.raises(RuntimeError, match='evil.pth'):
        load_weights_only(str(path))


class _Arbitrary:
    """A class that is not on the allow-list."""


def test_pretrained_init_cfg_loads_weights_only(tmp_path):
    """``init_cfg=dict(type='Pretrained')`` accepts plain weights and refuses pickled objects."""
    from mmengine.model import BaseModule

    class Tiny(BaseModule):

        def __init__(self, init_cfg):
            super().__init__(init_cfg=init_cfg)
            self.fc = torch.nn.Linear(2, 2)

    weights = {'state_dict': {'fc.weight': torch.ones(2, 2), 'fc.bias': torch.zeros(2)}}
    good, evil = tmp_path / 'good.pth', tmp_path / 'evil.pth'
    torch.save(weights, good)
    torch.save({**weights, 'meta': _Arbitrary()}, evil)

    model = Tiny(dict(type='Pretrained', checkpoint=str(good)))
    model.init_weights()
    torch.testing.assert_close(model.fc.weight, torch.ones(2, 2))

    with pytest.raises(Exception, match='Weights only load failed'):
        Tiny(dict(type='Pretrained', checkpoint=str(evil))).init_weights()
