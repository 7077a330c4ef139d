"""PQCL converter: reference format -> mmssl_ext (strict load) and backbone only."""
import argparse
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmpretrain.models.backbones import VisionTransformer

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS
from mmssl_ext.converters import extract_backbone, pqcl_official_to_mmssl, pqcl_to_backbone

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ARCH = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)
BACKBONE = dict(type='QueryViT', arch=ARCH, img_size=32, patch_size=8, out_type='raw')
HEAD = dict(type='IBOTProjectionHead', in_channels=48, out_channels=16, hidden_channels=32,
            bottleneck_channels=8)
#: the reference's timm names -> ours, written out by hand for the test.
BLOCK = {'norm1': 'ln1', 'attn.qkv': 'attn.qkv', 'attn.proj': 'attn.proj', 'norm2': 'ln2',
         'mlp.fc1': 'ffn.layers.0.0', 'mlp.fc2': 'ffn.layers.1'}


def _random_reference(depth=2, dims=48, out=16):
    torch.manual_seed(0)
    r = lambda *shape: torch.randn(*shape)  # noqa: E731

    def backbone():
        sd = {'cls_token': r(1, 1, dims), 'pos_embed': r(1, 17, dims),
              'patch_embed.proj.weight': r(dims, 3, 8, 8), 'patch_embed.proj.bias': r(dims),
              'norm.weight': r(dims), 'norm.bias': r(dims), 'masked_embed': r(1, dims),
              'norm2.weight': r(dims), 'norm2.bias': r(dims),
              'query_block.norm1.weight': r(dims)}
        for i in range(depth):
            for name, shape in (('norm1', (dims, )), ('norm2', (dims, )),
                                ('attn.qkv', (3 * dims, dims)), ('attn.proj', (dims, dims)),
                                ('mlp.fc1', (96, dims)), ('mlp.fc2', (dims, 96))):
                sd[f'blocks.{i}.{name}.weight'] = r(*shape)
                sd[f'blocks.{i}.{name}.bias'] = r(shape[0])
        return sd

    def head():
        sd = {'mlp.0.weight': r(32, dims), 'mlp.0.bias': r(32), 'mlp.2.weight': r(32, 32),
              'mlp.2.bias': r(32), 'mlp.4.weight': r(8, 32), 'mlp.4.bias': r(8),
              'last_layer.weight_g': r(out, 1), 'last_layer.weight_v': r(out, 8)}
        sd['last_layer2.weight_g'] = sd['last_layer.weight_g']
        sd['last_layer2.weight_v'] = sd['last_layer.weight_v']
        return sd

    student = {f'module.backbone.{k}': v for k, v in backbone().items()}
    student.update({f'module.head.{k}': v for k, v in head().items()})
    teacher = {f'backbone.{k}': v for k, v in backbone().items()}
    teacher.update({f'head.{k}': v for k, v in head().items()})
    loss = {'center': r(1, out), 'center2': r(1, 1, out), 'center3': r(1, 1, out)}
    return {'student': student, 'teacher': teacher, 'pqcl_loss': loss, 'epoch': 3,
            'args': argparse.Namespace(arch='pos_small')}


def _model():
    model = MODELS.build(dict(type='PQCL', backbone=BACKBONE, head=HEAD))
    model.init_weights()
    return model


def test_converted_checkpoint_loads_strictly_and_maps_every_tensor():
    reference = _random_reference()
    converted, report = pqcl_official_to_mmssl(reference)
    model = _model()
    model.load_state_dict(converted, strict=True)
    teacher = reference['teacher']
    assert torch.equal(model.teacher_backbone.module.layers[1].ffn.layers[1].weight,
                       teacher['backbone.blocks.1.mlp.fc2.weight'])
    assert torch.equal(model.backbone.mask_token.view(-1),
                       reference['student']['module.backbone.masked_embed'].view(-1))
    head = model.heads['cls']
    assert torch.equal(head.mlp[4].bias, reference['student']['module.head.mlp.4.bias'])
    assert torch.equal(head.last_layer.parametrizations.weight.original0,
                       reference['student']['module.head.last_layer.weight_g'])
    assert torch.equal(model.losses['patch'].center.view(-1),
                       reference['pqcl_loss']['center2'].view(-1))
    assert int(model.teacher_backbone.steps) == 1
    assert {'student.backbone.query_block.norm1.weight', 'student.backbone.norm2.weight',
            'teacher.head.last_layer2.weight_v'} <= set(report.unused)
    for key, value in converted.items():  # every block tensor came from its timm twin
        if key.startswith('backbone.layers.'):
            index, rest = key.split('.', 3)[2:]
            source = next(k for k, v in BLOCK.items() if rest.startswith(v + '.'))
            assert torch.equal(value, reference['student'][
                f'module.backbone.blocks.{index}.{source}.{rest.rsplit(".", 1)[1]}'])


def test_backbone_only_matches_the_teacher_encoder():
    converted, _ = pqcl_official_to_mmssl(_random_reference())
    backbone = pqcl_to_backbone(converted)
    vit = VisionTransformer(arch=ARCH, img_size=32, patch_size=8, out_type='raw')
    vit.load_state_dict(backbone, strict=True)
    vit.eval()
    model = _model()
    model.load_state_dict(converted)
    model.eval()
    images = torch.randn(2, 3, 32, 32)
    tokens, _ = model.teacher_backbone.module.forward_tokens(images)
    assert torch.allclose(vit(images)[-1], tokens, atol=1e-5)
    assert extract_backbone(converted)[1:] == ('pqcl', 'teacher')
    student = extract_backbone(converted, 'student')[0]
    assert torch.equal(student['layers.0.attn.qkv.weight'],
                       converted['backbone.layers.0.attn.qkv.weight'])


def test_bad_input_names_what_is_missing():
    with pytest.raises(KeyError, match='student'):
        pqcl_official_to_mmssl({'teacher': {}})
    reference = _random_reference()
    del reference['teacher']['backbone.blocks.1.attn.qkv.weight']
    with pytest.raises(KeyError, match='blocks.1.attn.qkv.weight'):
        pqcl_official_to_mmssl(reference)
    with pytest.raises(ValueError, match='encoder'):
        pqcl_to_backbone({}, 'online')


def test_command_line_tool(tmp_path):
    src = tmp_path / 'checkpoint.pth'
    torch.save(_random_reference(), src)
    for extra, name in (([], 'full.pth'), (['--backbone-only'], 'backbone.pth')):
        result = subprocess.run(
            [sys.executable, osp.join(ROOT, 'tools', 'model_converters', 'convert.py'),
             '--from', 'pqcl-official', str(src), str(tmp_path / name), *extra],
            capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        assert 'unused source keys' in result.stdout
    backbone = torch.load(tmp_path / 'backbone.pth', weights_only=True)
    assert backbone['meta']['encoder'] == 'teacher'
    assert 'mask_token' not in backbone['state_dict']
