"""CIM converter: reference release layout -> mmssl_ext CIM and backbone-only checkpoints.

The release is synthesised with the key layout and shapes of the reference model
(weivision/Correlational-Image-Modeling, ``CorrelationalAutoencoderViT``), for a size
given by a config dict, so the same builders serve a tiny variant (numbers) and ViT-B
(layout only, on the meta device).
"""
import argparse
import os.path as osp
import runpy
import sys

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmpretrain.models import VisionTransformer
from mmpretrain.models.utils import build_2d_sincos_position_embedding

import mmssl_ext  # noqa: F401
from mmssl_ext.converters import cim_official_to_mmssl, cim_to_backbone
from mmssl_ext.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# encoder width / depth / heads, decoder width / heads, image and context sizes, and
# the contrastive branch's hidden / output widths (4096 / 256 in the release).
TINY = dict(dim=32, depth=2, heads=2, dec_dim=16, dec_heads=2, patch=16, img=64, context=48,
            proj_hidden=64, proj_out=16)
VIT_B = dict(dim=768, depth=12, heads=12, dec_dim=512, dec_heads=16, patch=16, img=224,
             context=160, proj_hidden=4096, proj_out=256)
CONTRASTIVE = ('decoder_g_embed.', 'decoder_g_embed_c.', 'decoder_predictor.')


def _grid(cfg):
    return cfg['context'] // cfg['patch']


def _vit_arch(cfg):
    return dict(embed_dims=cfg['dim'], num_layers=cfg['depth'], num_heads=cfg['heads'],
                feedforward_channels=4 * cfg['dim'])


def _our_cim(cfg):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='CIM',
        backbone=dict(type='CIMViT', arch=_vit_arch(cfg), img_size=cfg['img'],
                      patch_size=cfg['patch'], stop_grad_conv1=True, out_type='raw'),
        neck=dict(type='CIMNeck', in_channels=cfg['dim'], embed_dims=cfg['dec_dim'],
                  num_heads=cfg['dec_heads']),
        head=dict(type='CIMHead')))


def _mae_sincos_table(grid, dims):
    """MAE's fixed table, (1, 1 + grid*grid, dims): a zero class slot, then for the cell
    in row r, column c: [sin(c w), cos(c w), sin(r w), cos(r w)], w_k = 10000^(-4k/dims)."""
    rows, cols = torch.meshgrid(torch.arange(float(grid)), torch.arange(float(grid)),
                                indexing='ij')
    omega = 10000.**(-torch.arange(dims // 4) / (dims / 4))

    def encode(position):
        angles = position.reshape(-1, 1) * omega
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    cells = torch.cat([encode(cols), encode(rows)], dim=1)
    return torch.cat([torch.zeros(1, dims), cells])[None]


def _block_shapes(dims, attention):
    """Shapes of a timm-style pre-norm block; ``attention``: {linear name: out width}."""
    hidden = 4 * dims
    shapes = {'mlp.fc1.weight': (hidden, dims), 'mlp.fc1.bias': (hidden,),
              'mlp.fc2.weight': (dims, hidden), 'mlp.fc2.bias': (dims,),
              'attn.proj.weight': (dims, dims), 'attn.proj.bias': (dims,)}
    for norm in ('norm1', 'norm2'):
        shapes.update({f'{norm}.weight': (dims,), f'{norm}.bias': (dims,)})
    for name, width in attention.items():
        shapes.update({f'attn.{name}.weight': (width, dims), f'attn.{name}.bias': (width,)})
    return shapes


def _projection_mlp(num_layers, in_dims, hidden, out_dims):
    """The release's contrastive MLPs: [Linear (no bias), BN, ReLU] x (n-1), Linear, BN."""
    layers = []
    for index in range(num_layers):
        last = index == num_layers - 1
        layers.append(nn.Linear(in_dims if index == 0 else hidden, out_dims if last else hidden,
                                bias=False))
        layers += [nn.BatchNorm1d(out_dims, affine=False)] if last else [
            nn.BatchNorm1d(hidden), nn.ReLU()]
    return nn.Sequential(*layers)


def _reference_state_dict(cfg, device='cpu'):
    """The release's ``model`` dict for ``cfg``: random on CPU, or empty on 'meta'."""
    generator = torch.Generator().manual_seed(0)
    dim, dec = cfg['dim'], cfg['dec_dim']
    shapes = {'cls_token': (1, 1, dim), 'pos_embed': (1, (cfg['img'] // cfg['patch'])**2 + 1, dim)}
    for suffix in ('', '_c'):
        shapes[f'patch_embed{suffix}.proj.weight'] = (dim, 3, cfg['patch'], cfg['patch'])
        shapes.update({f'patch_embed{suffix}.proj.bias': (dim,), f'norm{suffix}.weight': (dim,),
                       f'norm{suffix}.bias': (dim,)})
        for index in range(cfg['depth']):
            shapes.update({f'blocks{suffix}.{index}.{name}': shape
                           for name, shape in _block_shapes(dim, {'qkv': 3 * dim}).items()})
    shapes.update({f'decoder_corr_block.block.{name}': shape
                   for name, shape in _block_shapes(dec, {'q': dec, 'kv': 2 * dec}).items()})
    shapes.update({'decoder_embed.weight': (dec, dim), 'decoder_embed.bias': (dec,),
                   'decoder_norm.weight': (dec,), 'decoder_norm.bias': (dec,),
                   'decoder_pred_mask.0.weight': (2, dec, 1, 1), 'decoder_pred_mask.0.bias': (2,)})
    release = {key: torch.empty(shape, device='meta') if device == 'meta'
               else torch.randn(shape, generator=generator) for key, shape in shapes.items()}
    release['decoder_pos_embed'] = _mae_sincos_table(_grid(cfg), dec)
    hidden, out = cfg['proj_hidden'], cfg['proj_out']
    with torch.device(device):
        mlps = {'decoder_g_embed': _projection_mlp(3, dim, hidden, out),
                'decoder_g_embed_c': _projection_mlp(3, dim, hidden, out),
                'decoder_predictor': _projection_mlp(2, out, hidden, out)}
    for name, mlp in mlps.items():
        release.update({f'{name}.{key}': value for key, value in mlp.state_dict().items()})
    return release


def test_full_conversion_loads_strictly_and_lands_in_place():
    release = _reference_state_dict(TINY)
    converted, report = cim_official_to_mmssl(release)
    model = _our_cim(TINY)
    assert set(converted) == set(model.state_dict())
    model.load_state_dict(converted, strict=True)
    state = model.state_dict()
    expected = {
        'target_encoder.module.layers.1.attn.qkv.weight': 'blocks_c.1.attn.qkv.weight',
        'target_encoder.module.patch_embed.projection.weight': 'patch_embed_c.proj.weight',
        'target_encoder.module.ln1.bias': 'norm_c.bias',
        'target_encoder.module.cls_token': 'cls_token',
        'target_encoder.module.pos_embed': 'pos_embed',
        'backbone.layers.0.ffn.layers.1.weight': 'blocks.0.mlp.fc2.weight',
        'backbone.layers.1.ln2.bias': 'blocks.1.norm2.bias',
        'backbone.pos_embed': 'pos_embed',
        'neck.embed.weight': 'decoder_embed.weight',
        'neck.blocks.0.attn.q.weight': 'decoder_corr_block.block.attn.q.weight',
        'neck.blocks.0.attn.kv.bias': 'decoder_corr_block.block.attn.kv.bias',
        'neck.blocks.0.ffn.layers.0.0.weight': 'decoder_corr_block.block.mlp.fc1.weight',
        'neck.norm.weight': 'decoder_norm.weight',
        'neck.predictor.weight': 'decoder_pred_mask.0.weight',
    }
    for ours, reference in expected.items():
        torch.testing.assert_close(state[ours], release[reference], rtol=0, atol=0)
    assert int(state['target_encoder.steps']) == 1  # the EMA continues, no re-copy
    assert report.converted == len(converted)
    assert report.unused == sorted(k for k in release if k.startswith(CONTRASTIVE))
    assert 'decoder_g_embed.1.running_var' in report.unused
    assert report.recomputed == ['decoder_pos_embed']


def test_vit_b_release_layout_loads_into_the_config_model():
    """Layout and every shape against the model of configs/cim/vit-b_300e_in1k.py."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'cim', 'vit-b_300e_in1k.py'))
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    converted, report = cim_official_to_mmssl(_reference_state_dict(VIT_B, device='meta'))
    model.load_state_dict(converted, strict=True, assign=True)  # checks keys and shapes
    # g_embed, g_embed_c: 3 linear + 2 BN (5 entries) + affine-free BN (3 entries) each;
    # predictor: 2 linear + 1 BN + 1 affine-free BN
    assert len(report.unused) == 2 * (3 + 2 * 5 + 3) + (2 + 5 + 3)


def _reference_pos_embed(release, cfg, image_size):
    """The reference's interpolate_pos_encoding: the table as is at the training size,
    else bicubic with scale_factor (n + 0.1) / N."""
    table = release['pos_embed']
    grid, size = cfg['img'] // cfg['patch'], image_size // cfg['patch']
    if size == grid:
        return table
    cells = table[:, 1:].reshape(1, grid, grid, -1).permute(0, 3, 1, 2)
    cells = F.interpolate(cells, scale_factor=((size + 0.1) / grid, (size + 0.1) / grid),
                          mode='bicubic')
    return torch.cat([table[:, :1], cells.flatten(2).transpose(1, 2)], dim=1)


def _plain_vit(release, cfg, images, suffix=''):
    """Independent pre-norm ViT forward with the release's (timm) weights, (B, 1+N, C)."""
    dim, heads = cfg['dim'], cfg['heads']
    linear = lambda t, name: t @ release[name + '.weight'].T + release[name + '.bias']  # noqa
    norm = lambda t, name: F.layer_norm(t, (dim,), release[name + '.weight'],  # noqa
                                        release[name + '.bias'], eps=1e-6)
    x = F.conv2d(images, release[f'patch_embed{suffix}.proj.weight'],
                 release[f'patch_embed{suffix}.proj.bias'], stride=cfg['patch'])
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([release['cls_token'].expand(len(x), -1, -1), x], 1)
    x = x + _reference_pos_embed(release, cfg, images.shape[-1])
    for index in range(cfg['depth']):
        block = f'blocks{suffix}.{index}.'
        qkv = linear(norm(x, block + 'norm1'), block + 'attn.qkv')
        q, k, v = qkv.unflatten(-1, (3, heads, dim // heads)).permute(2, 0, 3, 1, 4)
        attn = (q @ k.transpose(-2, -1) / (dim // heads)**0.5).softmax(-1)
        x = x + linear((attn @ v).transpose(1, 2).flatten(2), block + 'attn.proj')
        hidden = F.gelu(linear(norm(x, block + 'norm2'), block + 'mlp.fc1'))
        x = x + linear(hidden, block + 'mlp.fc2')
    return norm(x, f'norm{suffix}')


@pytest.mark.parametrize('encoder,suffix', [('online', ''), ('target', '_c')])
@pytest.mark.parametrize('image_size', [TINY['img'], TINY['context'], 32])
def test_encoders_match_an_independent_forward(encoder, suffix, image_size):
    """At the training size and at the context / exemplar sizes (4x4 -> 3x3, 2x2: the
    reference's resize of the position table)."""
    release = _reference_state_dict(TINY)
    model = _our_cim(TINY)
    model.load_state_dict(cim_official_to_mmssl(release)[0], strict=True)
    vit = VisionTransformer(arch=_vit_arch(TINY), img_size=TINY['img'], patch_size=TINY['patch'],
                            out_type='raw')
    vit.load_state_dict(cim_to_backbone(release, encoder), strict=True)
    model.eval()
    vit.eval()
    torch.manual_seed(1)
    images = torch.randn(2, 3, image_size, image_size)
    with torch.no_grad():
        expected = _plain_vit(release, TINY, images, suffix)
        ours = (model.backbone if encoder == 'online' else model.target_encoder)(images)[-1]
        torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)
        if image_size == TINY['img']:  # the extracted backbone resizes with size=(n, n)
            torch.testing.assert_close(vit(images)[-1], ours, rtol=0, atol=0)


def _plain_decoder(release, cfg, context_tokens, exemplar_tokens, pos_embed, size):
    """Reference decoder for one exemplar per context, with explicit k / v weight slices.

    (B, 1 + g*g, C) context and (B, 1 + m, C) exemplar tokens -> (B, 2, H, W) logits.
    """
    dims, heads, grid = cfg['dec_dim'], cfg['dec_heads'], _grid(cfg)
    block = 'decoder_corr_block.block.'
    weight = lambda name: release[name + '.weight']  # noqa: E731
    bias = lambda name: release[name + '.bias']  # noqa: E731
    linear = lambda t, name: t @ weight(name).T + bias(name)  # noqa: E731
    norm = lambda t, name: F.layer_norm(t, (dims,), weight(name), bias(name), eps=1e-6)  # noqa
    split_heads = lambda t: t.unflatten(-1, (heads, dims // heads)).transpose(1, 2)  # noqa

    x = linear(context_tokens, 'decoder_embed') + pos_embed
    memory = norm(linear(exemplar_tokens, 'decoder_embed'), block + 'norm1')
    kv_weight, kv_bias = weight(block + 'attn.kv'), bias(block + 'attn.kv')
    q = split_heads(linear(norm(x, block + 'norm1'), block + 'attn.q'))
    k = split_heads(memory @ kv_weight[:dims].T + kv_bias[:dims])
    v = split_heads(memory @ kv_weight[dims:].T + kv_bias[dims:])
    attn = (q @ k.transpose(-2, -1) / (dims // heads)**0.5).softmax(-1)
    x = x + linear((attn @ v).transpose(1, 2).flatten(2), block + 'attn.proj')
    x = x + linear(F.gelu(linear(norm(x, block + 'norm2'), block + 'mlp.fc1')), block + 'mlp.fc2')
    cells = norm(x, 'decoder_norm')[:, 1:].transpose(1, 2).unflatten(2, (grid, grid))
    logits = F.conv2d(cells, weight('decoder_pred_mask.0'), bias('decoder_pred_mask.0'))
    return F.interpolate(logits, size=size, mode='bilinear', align_corners=True)


def test_decoder_matches_an_independent_forward():
    """The decoder weights, the kv split included, land where CIMNeck uses them.

    The reference side uses the release's own ``decoder_pos_embed``: CIMNeck's
    recomputed table must be the same.
    """
    release = _reference_state_dict(TINY)
    model = _our_cim(TINY)
    model.load_state_dict(cim_official_to_mmssl(release)[0], strict=True)
    torch.manual_seed(1)
    batch, num_exemplars, size = 2, 3, (TINY['context'], TINY['context'])
    context_tokens = torch.randn(batch, 1 + _grid(TINY)**2, TINY['dim'])
    exemplar_tokens = torch.randn(batch, num_exemplars, 5, TINY['dim'])
    with torch.no_grad():
        ours = model.neck(context_tokens, exemplar_tokens, size)
        expected = torch.stack([
            _plain_decoder(release, TINY, context_tokens, exemplar_tokens[:, n],
                           release['decoder_pos_embed'], size)
            for n in range(num_exemplars)], dim=1)
    assert ours.shape == (batch, num_exemplars, 2) + size
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-4)


def test_decoder_pos_embed_is_checked():
    release = _reference_state_dict(TINY)
    assert cim_official_to_mmssl(release)[1].warnings == []  # both MAE's table
    release['decoder_pos_embed'] = build_2d_sincos_position_embedding(  # column-major
        _grid(TINY), TINY['dec_dim'], cls_token=True)
    assert 'differs' in cim_official_to_mmssl(release)[1].warnings[0]
    release['decoder_pos_embed'] = torch.randn_like(release['decoder_pos_embed'])
    assert 'differs' in cim_official_to_mmssl(release)[1].warnings[0]


def test_missing_keys_are_errors_naming_them():
    release = _reference_state_dict(TINY)
    del release['blocks_c.1.mlp.fc2.bias'], release['decoder_norm.weight']
    with pytest.raises(KeyError, match=r'2 keys.*blocks_c\.1\.mlp\.fc2\.bias.*decoder_norm'):
        cim_official_to_mmssl(release)
    with pytest.raises(KeyError, match=r'blocks_c\.1\.mlp\.fc2\.bias'):
        cim_to_backbone(release, 'target')
    assert 'layers.1.ffn.layers.1.bias' in cim_to_backbone(release, 'online')


def test_backbone_from_our_checkpoints():
    state = _our_cim(TINY).state_dict()
    for encoder, prefix in (('online', 'backbone.'), ('target', 'target_encoder.module.')):
        backbone = cim_to_backbone(state, encoder)
        assert backbone.keys() == {k[len(prefix):] for k in state if k.startswith(prefix)}
        assert backbone['layers.0.attn.qkv.weight'] is state[prefix + 'layers.0.attn.qkv.weight']
    with pytest.raises(ValueError, match='encoder'):
        cim_to_backbone(state, 'teacher')
    with pytest.raises(KeyError, match='not a CIM checkpoint'):
        cim_to_backbone({'conv.weight': torch.zeros(1)})


def _run_cli(monkeypatch, *args):
    script = osp.join(ROOT, 'tools', 'model_converters', 'convert.py')
    monkeypatch.setattr(sys, 'argv', [script, '--from', 'cim-official', *map(str, args)])
    runpy.run_path(script, run_name='__main__')


def test_cli_round_trip(tmp_path, monkeypatch, capsys):
    release = _reference_state_dict(TINY)
    source = tmp_path / 'cim_release.pth'  # as the reference's save_model writes it
    torch.save({'model': release, 'optimizer': {'state': {}, 'param_groups': []}, 'epoch': 299,
                'scaler': None, 'args': argparse.Namespace(model='vit_base_patch16', lr=1e-3)},
               source)

    _run_cli(monkeypatch, source, tmp_path / 'full.pth')
    assert 'unused source keys (42)' in capsys.readouterr().out
    full = torch.load(tmp_path / 'full.pth', weights_only=True)
    assert full['meta'] == {'converted_from': 'cim-official'}
    model = _our_cim(TINY)
    load_checkpoint(model, str(tmp_path / 'full.pth'), strict=True)  # what load_from does
    torch.testing.assert_close(model.neck.blocks[0].attn.q.weight,
                               release['decoder_corr_block.block.attn.q.weight'])

    _run_cli(monkeypatch, source, tmp_path / 'target.pth', '--backbone-only', '--encoder', 'target')
    backbone = torch.load(tmp_path / 'target.pth', weights_only=True)
    assert backbone['meta']['encoder'] == 'target'
    pretrained = dict(type='Pretrained', checkpoint=str(tmp_path / 'target.pth'))
    vit = VisionTransformer(arch=_vit_arch(TINY), img_size=TINY['img'], patch_size=TINY['patch'],
                            init_cfg=pretrained)
    vit.init_weights()
    assert vit.state_dict().keys() == backbone['state_dict'].keys()
    torch.testing.assert_close(vit.layers[1].attn.qkv.weight, release['blocks_c.1.attn.qkv.weight'])

    with pytest.raises(SystemExit):
        _run_cli(monkeypatch, source, tmp_path / 'bad.pth', '--encoder', 'target')
