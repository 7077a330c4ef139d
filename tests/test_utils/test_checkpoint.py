"""Weights-only loading of mmengine checkpoints (torch >= 2.6 default): importing
mmssl_ext makes every checkpoint the process saves portable, getattr stays forbidden."""
import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import mmssl_ext  # noqa: F401  (portable pickling, allow-listed types)
from mmssl_ext.utils import PortableHistoryBuffer, load_weights_only


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


def test_stock_mmengine_checkpoint_needs_getattr_and_stays_refused(tmp_path):
    """Saved in a process without the plugin, a checkpoint needs builtins.getattr, which
    importing mmssl_ext does not allow."""
    path = tmp_path / 'stock.pth'
    script = textwrap.dedent(f'''
        import sys
        import numpy as np, torch
        from mmengine.logging import MessageHub
        hub = MessageHub('stock')
        hub.update_scalar('train/loss', 1.0)
        torch.save({{'message_hub': hub.state_dict()}}, {str(path)!r})
        assert 'mmssl_ext' not in sys.modules
    ''')
    subprocess.run([sys.executable, '-c', script], check=True)
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    assert any('getattr' in name for name in unsafe)
    with pytest.raises(Exception, match='getattr'):
        torch.load(path, weights_only=True)
    assert 'builtins.getattr' not in {
        f'{g.__module__}.{g.__name__}' for g in torch.serialization.get_safe_globals()
        if hasattr(g, '__name__')}


def test_checkpoint_saved_after_import_loads_weights_only_and_restores_hub():
    checkpoint = _mmengine_style_checkpoint()
    buffer = _save(checkpoint)
    unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(buffer)
    assert not any('getattr' in name for name in unsafe)

    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    assert loaded['meta']['iter'] == 3 and isinstance(loaded['meta']['iter'], np.int64)
    torch.testing.assert_close(loaded['state_dict']['w'], checkpoint['state_dict']['w'])

    hub = MessageHub(f'ckpt-restore-{np.random.randint(1 << 30)}')
    hub.load_state_dict(loaded['message_hub'])
    loss = hub.get_scalar('train/loss')
    assert type(loss) is HistoryBuffer
    np.testing.assert_allclose(loss.data[0], [1.0, 0.5, 0.25])
    assert loss.mean() == pytest.approx(1.75 / 3)
    assert loss.current() == pytest.approx(0.25)
    assert loss.max_length == checkpoint['message_hub']['log_scalars']['train/loss'].max_length
    assert hub.get_info('iter') == 3


def test_checkpoints_of_the_former_portable_hook_still_load():
    """Checkpoints written through PortableCheckpointHook pickled PortableHistoryBuffer."""
    buffer = PortableHistoryBuffer([1.0, 2.0], [1, 1], max_length=5)
    assert 'statistics_methods' not in buffer.__getstate__()
    loaded = torch.load(_save({'message_hub': {'log_scalars': {'loss': buffer}}}),
                        weights_only=True)['message_hub']['log_scalars']['loss']
    assert loaded.max_length == 5
    np.testing.assert_array_equal(loaded.data[0], [1.0, 2.0])
    assert loaded.max() == 2.0


def test_object_arrays_stay_refused():
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(_save({'meta': np.array([_Arbitrary()], dtype=object)}), weights_only=True)


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
