"""CIM converter: reference key layout -> mmssl_ext CIM and backbone-only checkpoints."""
import os.path as osp
import subprocess
import sys

import pytest
import torch

import mmssl_ext  # noqa: F401
from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS
from mmssl_ext.converters import cim_official_to_mmssl, cim_to_backbone

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DIM, DEPTH, HEADS, DEC, PATCH, IMG, CONTEXT = 32, 2, 2, 16, 16, 64, 48
ARCH = dict(embed_dims=DIM, num_layers=DEPTH, num_heads=HEADS, feedforward_channels=4 * DIM)


def _tiny_cim():
    return MODELS.build(dict(
        type='CIM',
        backbone=dict(type='MoCoV3ViT', arch=ARCH, img_size=IMG, patch_size=PATCH,
                      stop_grad_conv1=True, out_type='raw'),
        neck=dict(type='CIMNeck', in_channels=DIM, embed_dims=DEC, num_heads=2,
                  context_grid=(CONTEXT // PATCH, CONTEXT // PATCH)),
        head=dict(type='CIMHead')))


def _reference_state_dict():
    """Random weights with the reference release's exact key layout (tiny sizes)."""
    g = torch.Generator().manual_seed(0)
    r = lambda *shape: torch.randn(*shape, generator=g)  # noqa: E731
    sd = {'cls_token': r(1, 1, DIM), 'pos_embed': r(1, (IMG // PATCH)**2 + 1, DIM)}
    for suffix in ('', '_c'):
        sd[f'patch_embed{suffix}.proj.weight'] = r(DIM, 3, PATCH, PATCH)
        sd[f'patch_embed{suffix}.proj.bias'] = r(DIM)
        for i in range(DEPTH):
            p = f'blocks{suffix}.{i}.'
            sd.update({p + 'norm1.weight': r(DIM), p + 'norm1.bias': r(DIM),
                       p + 'attn.qkv.weight': r(3 * DIM, DIM), p + 'attn.qkv.bias': r(3 * DIM),
                       p + 'attn.proj.weight': r(DIM, DIM), p + 'attn.proj.bias': r(DIM),
                       p + 'norm2.weight': r(DIM), p + 'norm2.bias': r(DIM),
                       p + 'mlp.fc1.weight': r(4 * DIM, DIM), p + 'mlp.fc1.bias': r(4 * DIM),
                       p + 'mlp.fc2.weight': r(DIM, 4 * DIM), p + 'mlp.fc2.bias': r(DIM)})
        sd[f'norm{suffix}.weight'], sd[f'norm{suffix}.bias'] = r(DIM), r(DIM)
    b = 'decoder_corr_block.block.'
    sd.update({'decoder_embed.weight': r(DEC, DIM), 'decoder_embed.bias': r(DEC),
               'decoder_pos_embed': r(1, (CONTEXT // PATCH)**2 + 1, DEC),
               b + 'norm1.weight': r(DEC), b + 'norm1.bias': r(DEC),
               b + 'attn.q.weight': r(DEC, DEC), b + 'attn.q.bias': r(DEC),
               b + 'attn.kv.weight': r(2 * DEC, DEC), b + 'attn.kv.bias': r(2 * DEC),
               b + 'attn.proj.weight': r(DEC, DEC), b + 'attn.proj.bias': r(DEC),
               b + 'norm2.weight': r(DEC), b + 'norm2.bias': r(DEC),
               b + 'mlp.fc1.weight': r(4 * DEC, DEC), b + 'mlp.fc1.bias': r(4 * DEC),
               b + 'mlp.fc2.weight': r(DEC, 4 * DEC), b + 'mlp.fc2.bias': r(DEC),
               'decoder_norm.weight': r(DEC), 'decoder_norm.bias': r(DEC),
               'decoder_pred_mask.0.weight': r(2, DEC, 1, 1), 'decoder_pred_mask.0.bias': r(2),
               'decoder_g_embed.0.weight': r(64, DIM), 'decoder_g_embed_c.0.weight': r(64, DIM),
               'decoder_predictor.0.weight': r(64, 64)})
    return sd


def test_full_conversion_loads_strictly_and_lands_in_place():
    reference = _reference_state_dict()
    converted, report = cim_official_to_mmssl(reference)
    model = _tiny_cim()
    model.load_state_dict(converted, strict=True)
    state = model.state_dict()
    torch.testing.assert_close(state['target_encoder.module.layers.1.attn.qkv.weight'],
                               reference['blocks_c.1.attn.qkv.weight'])
    torch.testing.assert_close(state['backbone.layers.0.ffn.layers.1.weight'],
                               reference['blocks.0.mlp.fc2.weight'])
    torch.testing.assert_close(state['neck.blocks.0.attn.kv.weight'],
                               reference['decoder_corr_block.block.attn.kv.weight'])
    torch.testing.assert_close(state['neck.predictor.weight'],
                               reference['decoder_pred_mask.0.weight'])
    torch.testing.assert_close(state['target_encoder.module.cls_token'], reference['cls_token'])
    assert int(state['target_encoder.steps']) == 1
    assert report.unused == sorted(['decoder_pos_embed', 'decoder_g_embed.0.weight',
                                    'decoder_g_embed_c.0.weight',
                                    'decoder_predictor.0.weight'])


def _plain_vit_forward(sd, images, prefix=''):
    """Independent pre-norm ViT forward with the reference's (timm) weights."""
    x = torch.nn.functional.conv2d(images, sd[prefix + 'patch_embed.proj.weight'],
                                   sd[prefix + 'patch_embed.proj.bias'], stride=PATCH)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([sd['cls_token'].expand(len(x), -1, -1), x], 1) + sd['pos_embed']
    ln = lambda t, n: torch.nn.functional.layer_norm(  # noqa: E731
        t, (DIM,), sd[n + '.weight'], sd[n + '.bias'], eps=1e-6)
    for i in range(DEPTH):
        p = f'blocks.{i}.'
        h = ln(x, p + 'norm1')
        qkv = (h @ sd[p + 'attn.qkv.weight'].T + sd[p + 'attn.qkv.bias'])
        q, k, v = qkv.view(len(x), -1, 3, HEADS, DIM // HEADS).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) / (DIM // HEADS)**0.5).softmax(-1)
        h = (attn @ v).transpose(1, 2).reshape(len(x), -1, DIM)
        x = x + h @ sd[p + 'attn.proj.weight'].T + sd[p + 'attn.proj.bias']
        h = ln(x, p + 'norm2') @ sd[p + 'mlp.fc1.weight'].T + sd[p + 'mlp.fc1.bias']
        h = torch.nn.functional.gelu(h)
        x = x + h @ sd[p + 'mlp.fc2.weight'].T + sd[p + 'mlp.fc2.bias']
    return ln(x, 'norm')


def test_backbone_only_matches_an_independent_forward():
    reference = _reference_state_dict()
    backbone = cim_to_backbone(reference, 'online')
    vit = VisionTransformer(arch=ARCH, img_size=IMG, patch_size=PATCH, out_type='raw')
    missing, unexpected = vit.load_state_dict(backbone, strict=False)
    assert not missing and not unexpected
    vit.eval()
    images = torch.randn(2, 3, IMG, IMG)
    with torch.no_grad():
        ours = vit(images)[-1]
        expected = _plain_vit_forward(reference, images)
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)


def test_target_encoder_and_our_own_checkpoints():
    reference = _reference_state_dict()
    target = cim_to_backbone(reference, 'target')
    torch.testing.assert_close(target['layers.0.ln2.bias'], reference['blocks_c.0.norm2.bias'])
    ours = _tiny_cim().state_dict()
    online = cim_to_backbone(ours)
    assert set(online) == {k[len('backbone.'):] for k in ours if k.startswith('backbone.')}
    with pytest.raises(ValueError, match='encoder'):
        cim_to_backbone(ours, 'teacher')


def test_cli_writes_weights_only_checkpoints(tmp_path):
    src = tmp_path / 'cim_release.pth'
    torch.save({'model': _reference_state_dict()}, src)
    script = osp.join(ROOT, 'tools', 'model_converters', 'cim_official_to_mmssl.py')
    for extra, name in (([], 'full.pth'), (['--backbone-only'], 'backbone.pth')):
        result = subprocess.run([sys.executable, script, str(src), str(tmp_path / name), *extra],
                                capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 0, result.stderr[-2000:]
        assert 'unused source keys (4)' in result.stdout
    full = torch.load(tmp_path / 'full.pth', weights_only=True)
    _tiny_cim().load_state_dict(full['state_dict'], strict=True)
    backbone = torch.load(tmp_path / 'backbone.pth', weights_only=True)['state_dict']
    assert 'layers.1.attn.qkv.weight' in backbone and 'ln1.weight' in backbone
