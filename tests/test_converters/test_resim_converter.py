"""ReSim -> mmdet: ResNet names, and the FPN levels landing on mmdet's FPN indices."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmdet.registry import MODELS as MMDET_MODELS

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS
from mmssl_ext.converters import extract_backbone, resim_to_backbone, resim_to_mmdet

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def resim_fpn():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='ReSim',
        backbone=dict(type='ResNet', depth=18, out_indices=(1, 2, 3)),
        region_neck=dict(type='ReSimFPN', in_channels=(128, 256, 512), out_channels=32),
        neck=dict(type='MoCoV2Neck', in_channels=512, hid_channels=64, out_channels=16),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'), temperature=0.2),
        region_head=dict(type='ReSimRegionHead', in_channels=(32, 32), strides=(8, 16),
                         windows=(16, 32), window_strides=(12, 16), level_names=('p3', 'p4'),
                         view_size=64, proj_channels=16),
        queue_len=8, feat_dim=16))
    model.init_weights()
    with torch.no_grad():  # make the key encoder differ from the query encoder
        for param in model.momentum_encoder.parameters():
            param.add_(0.5)
    return model


def _as_release(state_dict):
    """The reference release's layout of an mmssl_ext ReSim-FPN state dict."""
    release = {}
    for encoder, prefix in (('encoder_q', ''), ('encoder_k', 'momentum_encoder.module.')):
        for key, value in state_dict.items():
            if not key.startswith(prefix) or (not prefix and key.startswith('momentum')):
                continue
            key = key[len(prefix):]
            if key.startswith('backbone.'):
                name = key[len('backbone.'):]
            elif key.startswith('region_neck.lateral_convs.'):
                index, param = key.split('.')[2], key.split('.')[3]
                name = f'fpn_lateral{3 + int(index)}.{param}'
            elif key.startswith('region_neck.output_convs.'):
                index, param = key.split('.')[2], key.split('.')[3]
                name = f'fpn_output{3 + int(index)}.{param}'
            elif key.startswith('neck.mlp.'):
                name = 'fc.' + key[len('neck.mlp.'):]
            else:
                continue
            release[f'module.{encoder}.{name}'] = value
    release['module.queue'] = torch.zeros(16, 8)
    return release


def _mmdet_detector_parts():
    backbone = MMDET_MODELS.build(dict(type='ResNet', depth=18, out_indices=(0, 1, 2, 3),
                                       norm_eval=False))
    neck = MMDET_MODELS.build(dict(type='FPN', in_channels=[64, 128, 256, 512],
                                   out_channels=32, num_outs=5))
    backbone.eval()  # mmdet's ResNet.train() returns None
    neck.eval()
    return backbone, neck


@pytest.mark.parametrize('release', [False, True], ids=['mmssl', 'release'])
def test_fpn_levels_map_onto_mmdet_fpn(resim_fpn, release):
    state_dict = resim_fpn.state_dict()
    source = _as_release(state_dict) if release else state_dict
    converted, report = resim_to_mmdet(source, with_fpn=True)
    assert not report.warnings
    backbone, neck = _mmdet_detector_parts()
    backbone.load_state_dict({k[len('backbone.'):]: v for k, v in converted.items()
                              if k.startswith('backbone.')})  # strict: same ResNet names
    missing, unexpected = neck.load_state_dict(
        {k[len('neck.'):]: v for k, v in converted.items() if k.startswith('neck.')},
        strict=False)
    assert not unexpected
    assert sorted(k for k in converted if k.startswith('neck.')) == sorted(
        f'neck.{kind}.{i}.conv.{p}' for kind, indices in (('lateral_convs', (1, 2, 3)),
                                                           ('fpn_convs', (1, 2)))
        for i in indices for p in ('weight', 'bias'))
    # same P3 and P4 as the pre-trained ReSimFPN on the same image
    resim_fpn.eval()
    image = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ours = resim_fpn.region_neck(resim_fpn.backbone(image))
        theirs = neck(backbone(image))
    assert torch.allclose(theirs[1], ours[0], atol=1e-5)  # P3
    assert torch.allclose(theirs[2], ours[1], atol=1e-5)  # P4


def test_key_encoder_and_backbone_only(resim_fpn):
    state_dict = resim_fpn.state_dict()
    query = resim_to_backbone(state_dict)
    key = resim_to_backbone(state_dict, 'key')
    assert set(query) == set(key) and 'conv1.weight' in query
    assert not torch.equal(query['conv1.weight'], key['conv1.weight'])
    release = resim_to_backbone(_as_release(state_dict), 'key')
    assert set(release) == set(key)
    assert all(torch.equal(release[k], key[k]) for k in key)
    with pytest.raises(ValueError, match='encoder'):
        resim_to_backbone(state_dict, 'online')
    converted, report = resim_to_mmdet(state_dict)
    assert all(k.startswith('backbone.') for k in converted) and report.warnings


def test_extract_backbone_detects_resim(resim_fpn):
    backbone, algorithm, encoder = extract_backbone(resim_fpn.state_dict())
    assert (algorithm, encoder) == ('resim', 'query')
    assert torch.equal(backbone['layer1.0.conv1.weight'],
                       resim_fpn.backbone.layer1[0].conv1.weight)


def test_c4_checkpoint_has_no_fpn_and_bad_levels(resim_fpn):
    state_dict = {k: v for k, v in resim_fpn.state_dict().items() if 'region_neck' not in k}
    with pytest.raises(KeyError, match='ReSim-C4'):
        resim_to_mmdet(state_dict, with_fpn=True)
    with pytest.raises(ValueError, match='detector_first_level'):
        resim_to_mmdet(resim_fpn.state_dict(), with_fpn=True, detector_first_level=4)


def test_release_tool(resim_fpn, tmp_path):
    src, dst = tmp_path / 'resim_fpn_200ep.pth.tar', tmp_path / 'mmdet.pth'
    torch.save({'epoch': 200, 'arch': 'resnet50',
                'state_dict': _as_release(resim_fpn.state_dict())}, src)
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'model_converters', 'convert.py'),
         '--from', 'resim-official', str(src), str(dst), '--with-fpn'], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    written = torch.load(dst, weights_only=True)['state_dict']
    assert 'neck.lateral_convs.3.conv.weight' in written and 'backbone.conv1.weight' in written
