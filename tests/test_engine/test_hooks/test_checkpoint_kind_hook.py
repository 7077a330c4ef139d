"""CheckpointKindHook and checkpoint_kind: checkpoints carry their kind; load_from,
tools/test.py, init_cfg Pretrained and the visualisers refuse another kind or missing
weights (each through its real entry point), and opting out is explicit."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from torch import nn

import mmssl_ext  # noqa: F401
from mmssl_ext.utils.checkpoint_kind import (CheckpointKindError, check_kind,
                                             check_load_report, load_report, model_kind)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
MAE = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_mae.py')
CLASSIFIER = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_classifier.py')
WITH_HOOK = 'default_hooks.checkpoint_kind.type=CheckpointKindHook'


def _tool(*args, cwd=ROOT, ok=True):
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    result = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=900, check=False)
    if ok:
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    else:
        assert result.returncode != 0, result.stdout[-3000:]
    return result.stdout + result.stderr


def _train(config, work_dir, *options, ok=True):
    return _tool(osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir', str(work_dir),
                 '--cfg-options', *options, ok=ok)


def _pretrained(checkpoint):
    """--cfg-options for init_cfg=dict(type='Pretrained', prefix='backbone.') on the backbone."""
    return ['model.backbone.init_cfg.type=Pretrained',
            f'model.backbone.init_cfg.checkpoint={checkpoint}',
            'model.backbone.init_cfg.prefix=backbone.']


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory, demo_data_root):
    """One epoch of tiny MAE (our runtime) and of the tiny classifier with the hook."""
    out = tmp_path_factory.mktemp('kinds')
    images = demo_data_root / 'imagenet'
    data = [f'{split}_dataloader.dataset.data_root={images}' for split in ('train', 'test')]
    _train(MAE, out / 'mae', f'train_dataloader.dataset.data_root={images}',
           'train_cfg.max_epochs=1')
    _train(CLASSIFIER, out / 'clf', WITH_HOOK, *data)
    return dict(mae=str(out / 'mae' / 'epoch_1.pth'), clf=str(out / 'clf' / 'epoch_1.pth'),
                data=data, images=images)


@pytest.mark.slow
def test_checkpoints_carry_their_kind(checkpoints):
    mae = torch.load(checkpoints['mae'], weights_only=True)['meta']['model_kind']
    assert mae == dict(algorithm='MAE', backbone='MAEViT',
                       arch=dict(embed_dims=64, num_layers=2))
    clf = torch.load(checkpoints['clf'], weights_only=True)['meta']['model_kind']
    assert clf == dict(algorithm='ImageClassifier', backbone='ResNet', arch=dict(depth=18))


@pytest.mark.slow
def test_load_from_another_algorithm_fails_naming_both(checkpoints, tmp_path):
    log = _train(MAE, tmp_path, f'train_dataloader.dataset.data_root={checkpoints["images"]}',
                 f'load_from={checkpoints["clf"]}', ok=False)
    assert 'holds ImageClassifier with ResNet(depth=18), but the model is MAE with ' \
           'MAEViT(embed_dims=64, num_layers=2)' in log
    assert not (tmp_path / 'epoch_1.pth').exists()


@pytest.mark.slow
def test_test_tool_refuses_another_kind_unless_told(checkpoints, tmp_path):
    test = osp.join(ROOT, 'tools', 'test.py')
    args = [test, CLASSIFIER, checkpoints['mae'], '--work-dir', str(tmp_path),
            '--cfg-options', WITH_HOOK, *checkpoints['data']]
    log = _tool(*args, ok=False)
    assert 'holds MAE with MAEViT(embed_dims=64, num_layers=2), but the model is ' \
           'ImageClassifier with ResNet(depth=18)' in log
    log = _tool(*args, '--no-checkpoint-check')
    assert 'accuracy/top1' in log
    assert 'accuracy/top1' in _tool(test, CLASSIFIER, checkpoints['clf'], '--work-dir',
                                    str(tmp_path), '--cfg-options', WITH_HOOK,
                                    *checkpoints['data'])


@pytest.mark.slow
@pytest.mark.parametrize('change, message', [
    (['model.backbone.depth=34'], r'holds ImageClassifier with ResNet\(depth=18\), but the '
                                  r"model is ResNet\(\{'depth': 34\}\)"),
    (['model.backbone.num_stages=3', 'model.backbone.strides=(1,2,2)',
      'model.backbone.dilations=(1,1,1)', 'model.backbone.out_indices=(2,)',
      'model.head.in_channels=256'], r'\d+ model weights missing \(layer3\.'),
])
def test_pretrained_init_of_another_arch_or_with_missing_weights_fails(
        checkpoints, tmp_path, change, message):
    import re
    log = _train(CLASSIFIER, tmp_path, WITH_HOOK, *_pretrained(checkpoints['clf']), *change,
                 *checkpoints['data'], ok=False)
    assert re.search(message, log), log[-3000:]


@pytest.mark.slow
def test_pretrained_init_of_the_same_arch_trains(checkpoints, tmp_path):
    _train(CLASSIFIER, tmp_path, WITH_HOOK, *_pretrained(checkpoints['clf']),
           *checkpoints['data'])
    assert (tmp_path / 'epoch_1.pth').exists()


@pytest.mark.slow
def test_visualiser_refuses_another_algorithm(checkpoints, tmp_path):
    image = checkpoints['images'] / 'train' / 'astronaut' / 'original.jpg'
    vis = osp.join(ROOT, 'tools', 'visualization', 'vis_cim.py')
    config = osp.join(ROOT, 'configs', 'cim', 'vit-t_demo.py')
    log = _tool(vis, config, checkpoints['mae'], str(image), '--out', str(tmp_path / 'a.png'),
                ok=False)
    assert 'holds MAE with MAEViT(embed_dims=64, num_layers=2), but the model is CIM' in log


class _Net(nn.Module):

    def __init__(self, width=4):
        super().__init__()
        self.backbone = nn.Linear(width, width)
        self.backbone.embed_dims = width
        self.norm = nn.BatchNorm1d(width)


def test_kind_comparison_and_load_report():
    net = _Net()
    check_kind(model_kind(net), net, 'same.pth')
    check_kind(None, net, 'foreign.pth')  # a checkpoint from elsewhere: keys only
    with pytest.raises(CheckpointKindError, match=r'other.pth holds _Net with Linear\('
                                                  r'embed_dims=8\), but the model is _Net'):
        check_kind(model_kind(_Net(8)), net, 'other.pth')

    weights = net.state_dict()
    assert load_report(weights, net) == dict(missing=[], unexpected=[], mismatched=[])
    del weights['norm.num_batches_tracked']  # documented: always allowed
    weights['extra'] = torch.zeros(1)
    report = load_report(weights, net)
    assert report == dict(missing=[], unexpected=['extra'], mismatched=[])
    check_load_report(report, 'x.pth')  # unexpected keys alone are reported, not fatal

    del weights['norm.weight']
    weights['backbone.bias'] = torch.zeros(3)
    report = load_report(weights, net)
    assert report['missing'] == ['norm.weight']
    assert report['mismatched'] == ['backbone.bias: (3,) vs (4,)']
    with pytest.raises(CheckpointKindError, match=r'1 weights of another shape.*1 model '
                                                  r'weights missing \(norm.weight\)'):
        check_load_report(report, 'x.pth')
    assert load_report(weights, net, allowed_missing=[r'^norm\.'])['missing'] == []


def test_documented_exceptions_resized_pos_embed_and_new_relative_bias():
    class ViTLike(nn.Module):

        def __init__(self, grid, rel_bias):
            super().__init__()
            self.pos_embed = nn.Parameter(torch.zeros(1, grid * grid + 1, 4))
            self.attn = nn.Module()
            if rel_bias:
                self.attn.relative_position_bias_table = nn.Parameter(torch.zeros(3, 2))

    report = load_report(ViTLike(4, False).state_dict(), ViTLike(8, True))
    assert report == dict(missing=[], unexpected=[], mismatched=[])
