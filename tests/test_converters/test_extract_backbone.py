"""extract_backbone: pre-training checkpoint -> transfer backbone with no missing keys."""
import os.path as osp
import subprocess
import sys

import pytest
import torch

import mmssl_ext  # noqa: F401
from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS
from mmssl_ext.converters import detect_algorithm, extract_backbone

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ARCH = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64)


def _cim_checkpoint(path):
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='CIM',
        backbone=dict(type='MoCoV3ViT', arch=ARCH, img_size=64, patch_size=16,
                      stop_grad_conv1=True, out_type='raw'),
        neck=dict(type='CIMNeck', in_channels=32, embed_dims=16, num_heads=2),
        head=dict(type='CIMHead')))
    model.init_weights()
    with torch.no_grad():
        for p in model.target_encoder.parameters():
            p.add_(1.0)  # make the two encoders differ
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, path)
    return model


def test_cli_output_loads_into_a_detection_backbone(tmp_path):
    model = _cim_checkpoint(tmp_path / 'cim.pth')
    out = tmp_path / 'backbone.pth'
    result = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'model_converters',
                                                      'extract_backbone.py'),
                             str(tmp_path / 'cim.pth'), str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'cim: online encoder' in result.stdout
    vit = VisionTransformer(arch=ARCH, img_size=64, patch_size=16, out_indices=(0, 1, 2, 3),
                            out_type='featmap', final_norm=False)
    weights = torch.load(out, weights_only=True)['state_dict']
    missing, unexpected = vit.load_state_dict(weights, strict=False)
    assert missing == [] and unexpected == ['ln1.weight', 'ln1.bias']  # final_norm=False
    torch.testing.assert_close(vit.layers[2].attn.qkv.weight,
                               model.backbone.layers[2].attn.qkv.weight)

    # the same through init_cfg on the raw checkpoint with a prefix
    raw = VisionTransformer(arch=ARCH, img_size=64, patch_size=16, out_type='featmap',
                            init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'cim.pth'),
                                          prefix='backbone.'))
    raw.init_weights()
    torch.testing.assert_close(raw.layers[2].attn.qkv.weight, vit.layers[2].attn.qkv.weight)


def test_target_encoder_option_and_unknown_checkpoints(tmp_path):
    model = _cim_checkpoint(tmp_path / 'cim.pth')
    state = model.state_dict()
    assert detect_algorithm(state) == 'cim'
    target, _, encoder = extract_backbone(state, 'target')
    assert encoder == 'target'
    torch.testing.assert_close(target['layers.0.ln1.weight'],
                               state['target_encoder.module.layers.0.ln1.weight'])
    with pytest.raises(ValueError, match='known algorithm'):
        extract_backbone({'conv.weight': torch.zeros(1)})


def test_cli_extracts_the_mocov2_setting_of_resim(tmp_path):
    """configs/resim/mocov2_*: ReSim with the region branch off has no region keys."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmpretrain.models import ResNet

    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'resim',
                                   'mocov2_r18_small-scale_fmnist.py'))
    cfg.model.backbone.base_channels = 8
    cfg.model.neck.update(in_channels=64, hid_channels=32, out_channels=16)
    cfg.model.update(feat_dim=16, queue_len=64)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():
        for p in model.momentum_encoder.parameters():
            p.add_(1.0)  # make the two encoders differ
    assert model.region_head is None
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, tmp_path / 'moco.pth')
    for encoder, source in (('query', model.backbone),
                            ('key', model.momentum_encoder.module['backbone'])):
        out = tmp_path / f'{encoder}.pth'
        result = subprocess.run(
            [sys.executable, osp.join(ROOT, 'tools', 'model_converters',
                                      'extract_backbone.py'),
             str(tmp_path / 'moco.pth'), str(out), '--encoder', encoder],
            capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 0, result.stderr[-2000:]
        assert f'resim: {encoder} encoder' in result.stdout
        resnet = ResNet(depth=18, base_channels=8, out_indices=(3, ))
        resnet.load_state_dict(torch.load(out, weights_only=True)['state_dict'], strict=True)
        torch.testing.assert_close(resnet.layer3[1].conv2.weight,
                                   source.layer3[1].conv2.weight)
        torch.testing.assert_close(resnet.layer3[1].bn2.running_var,
                                   source.layer3[1].bn2.running_var)


VIT_T = dict(embed_dims=32, num_layers=2, num_heads=2, feedforward_channels=64)
MMPRETRAIN_PEERS = {
    'mae': dict(
        type='MAE',
        backbone=dict(type='MAEViT', arch=VIT_T, img_size=32, patch_size=8, mask_ratio=0.75),
        neck=dict(type='MAEPretrainDecoder', num_patches=16, patch_size=8, in_chans=3,
                  embed_dim=32, decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2),
        head=dict(type='MAEPretrainHead', norm_pix=True, patch_size=8,
                  loss=dict(type='PixelReconstructionLoss', criterion='L2'))),
    'mocov3': dict(
        type='MoCoV3',
        backbone=dict(type='MoCoV3ViT', arch=VIT_T, img_size=32, patch_size=8,
                      stop_grad_conv1=True),
        neck=dict(type='NonLinearNeck', in_channels=32, hid_channels=32, out_channels=16,
                  num_layers=2, with_last_bn=False),
        head=dict(type='MoCoV3Head',
                  predictor=dict(type='NonLinearNeck', in_channels=16, hid_channels=32,
                                 out_channels=16, num_layers=2, with_last_bn=False),
                  loss=dict(type='CrossEntropyLoss', loss_weight=2.), temperature=0.2)),
    'moco': dict(
        type='MoCo', queue_len=64, feat_dim=16, momentum=0.01,
        backbone=dict(type='ResNet', depth=18, base_channels=8, out_indices=(3, )),
        neck=dict(type='MoCoV2Neck', in_channels=64, hid_channels=32, out_channels=16),
        head=dict(type='ContrastiveHead', loss=dict(type='CrossEntropyLoss'),
                  temperature=0.2)),
}


@pytest.mark.parametrize('algorithm', sorted(MMPRETRAIN_PEERS))
def test_cli_extracts_mmpretrain_peers(tmp_path, algorithm):
    """mmpretrain's own MAE / MoCoV3 / MoCo (the benchmark's peers): the query encoder
    loads strictly into the evaluation backbone (a plain VisionTransformer or ResNet)."""
    from mmengine.registry import DefaultScope
    from mmpretrain.models import ResNet

    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(MMPRETRAIN_PEERS[algorithm])
    model.init_weights()
    momentum_encoder = getattr(model, 'encoder_k', getattr(model, 'momentum_encoder', None))
    if momentum_encoder is not None:
        with torch.no_grad():
            for p in momentum_encoder.parameters():
                p.add_(1.0)  # make the two encoders differ
    state = model.state_dict()
    torch.save({'meta': {}, 'state_dict': state}, tmp_path / 'peer.pth')
    out = tmp_path / 'backbone.pth'
    result = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'model_converters',
                                                      'extract_backbone.py'),
                             str(tmp_path / 'peer.pth'), str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    default = 'encoder' if algorithm == 'mae' else 'query'
    assert f'{algorithm}: {default} encoder' in result.stdout
    if algorithm == 'moco':
        evaluation = ResNet(depth=18, base_channels=8, out_indices=(3, ))
        probe = 'layer4.1.conv2.weight'
    else:
        evaluation = VisionTransformer(arch=VIT_T, img_size=32, patch_size=8, qkv_bias=True,
                                       norm_cfg=dict(type='LN', eps=1e-6),
                                       out_type='cls_token')
        probe = 'layers.1.attn.qkv.weight'
    evaluation.load_state_dict(torch.load(out, weights_only=True)['state_dict'], strict=True)
    torch.testing.assert_close(evaluation.state_dict()[probe], state[f'backbone.{probe}'])
    if algorithm != 'mae':
        key, _, encoder = extract_backbone(state, 'key')
        assert encoder == 'key'
        prefix = 'encoder_k' if algorithm == 'moco' else 'momentum_encoder'
        torch.testing.assert_close(key[probe], state[f'{prefix}.module.0.{probe}'])
        assert not torch.equal(key[probe], state[f'backbone.{probe}'])
    else:
        with pytest.raises(ValueError, match='one encoder'):
            extract_backbone(state, 'key')
