"""CAE converters: reference and mmpretrain key layouts -> ContextAutoencoder, and the
encoder -> BEiTViT / VisionTransformer backbones (q/v bias folded)."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmpretrain.models.backbones import VisionTransformer

from mmssl_ext.converters import cae_release_to_mmssl, cae_to_backbone, extract_backbone
from mmssl_ext.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
C, DEPTH, HEADS, GRID, PATCH, OUT = 32, 2, 4, 4, 8, 24
ARCH = dict(embed_dims=C, num_layers=DEPTH, num_heads=HEADS, feedforward_channels=4 * C)


def build_ours(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='ContextAutoencoder',
               backbone=dict(type='ContextEncoderViT', arch=ARCH, img_size=GRID * PATCH,
                             patch_size=PATCH, drop_path_rate=0.),
               neck=dict(type='CAERegressorDecoder', num_patches_side=GRID, embed_dims=C,
                         num_heads=HEADS, out_channels=OUT, regressor_depth=DEPTH,
                         decoder_depth=DEPTH, drop_path_rate=0.),
               head=dict(type='CAEPretrainHead', target='tokens'),
               target_generator=dict(type='DALL-E', n_hid=4, n_blk_per_group=1,
                                     vocab_size=OUT))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def reference_release():
    """A state dict with the exact key layout of the Atten4Vis/CAE release."""
    generator = torch.Generator().manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=generator)

    def linear(name, out_dims, in_dims, bias=True):
        entries = {f'{name}.weight': rand(out_dims, in_dims)}
        if bias:
            entries[f'{name}.bias'] = rand(out_dims)
        return entries

    def norm(name):
        return {f'{name}.weight': rand(C), f'{name}.bias': rand(C)}

    def block(prefix):
        sd = {**norm(prefix + 'norm1'), **norm(prefix + 'norm2'),
              **linear(prefix + 'attn.qkv', 3 * C, C, bias=False),
              **linear(prefix + 'attn.proj', C, C), **linear(prefix + 'mlp.fc1', 4 * C, C),
              **linear(prefix + 'mlp.fc2', C, 4 * C)}
        sd.update({prefix + 'attn.q_bias': rand(C), prefix + 'attn.v_bias': rand(C),
                   prefix + 'gamma_1': rand(C), prefix + 'gamma_2': rand(C)})
        return sd

    sd = {}
    for encoder in ('encoder.', 'alignment_encoder.'):
        sd.update({encoder + 'cls_token': rand(1, 1, C),
                   encoder + 'pos_embed': rand(1, 1 + GRID * GRID, C),
                   encoder + 'patch_embed.proj.weight': rand(C, 3, PATCH, PATCH),
                   encoder + 'patch_embed.proj.bias': rand(C), **norm(encoder + 'norm')})
        for index in range(DEPTH):
            sd.update(block(f'{encoder}blocks.{index}.'))
    for index in range(DEPTH):
        prefix = f'regresser.regressor_blocks.{index}.'
        for name in ('norm1_q', 'norm1_k', 'norm1_v', 'norm2_cross'):
            sd.update(norm(prefix + name))
        for name in ('q', 'k', 'v'):
            sd.update(linear(f'{prefix}cross_attn.{name}', C, C, bias=False))
        sd.update({prefix + 'cross_attn.q_bias': rand(C), prefix + 'cross_attn.v_bias': rand(C),
                   prefix + 'gamma_1_cross': rand(C), prefix + 'gamma_2_cross': rand(C),
                   **linear(prefix + 'cross_attn.proj', C, C),
                   **linear(prefix + 'mlp_cross.fc1', 4 * C, C),
                   **linear(prefix + 'mlp_cross.fc2', C, 4 * C)})
        sd.update(block(f'decoder.decoder_blocks.{index}.'))
    sd.update({**norm('regresser.norm'), **norm('decoder.norm'),
               **linear('decoder.head', OUT, C), 'mask_token': rand(1, 1, C),
               'rd_pos_embed': rand(1, 1 + GRID * GRID, C)})
    return sd


def test_reference_release_loads_strictly_into_our_model():
    release = reference_release()
    converted, report = cae_release_to_mmssl(release, 'official')
    assert report.unused == [] and report.recomputed == ['rd_pos_embed']
    model = build_ours()  # token targets: the release has no tokenizer weights
    missing, unexpected = model.load_state_dict(converted, strict=False)
    assert not unexpected
    assert missing and all(key.startswith('target_generator.') for key in missing)
    assert any('no tokenizer weights' in warning for warning in report.warnings)
    pairs = {
        'backbone.layers.1.attn.q_bias': 'encoder.blocks.1.attn.q_bias',
        'backbone.layers.0.ffn.layers.1.weight': 'encoder.blocks.0.mlp.fc2.weight',
        'backbone.layers.0.gamma_2': 'encoder.blocks.0.gamma_2',
        'backbone.ln1.bias': 'encoder.norm.bias',
        'backbone.patch_embed.projection.weight': 'encoder.patch_embed.proj.weight',
        'neck.regressor_layers.1.norm_k.weight': 'regresser.regressor_blocks.1.norm1_k.weight',
        'neck.regressor_layers.0.norm_cross.bias': 'regresser.regressor_blocks.0.norm2_cross.bias',
        'neck.regressor_layers.0.cross_attn.v_bias':
            'regresser.regressor_blocks.0.cross_attn.v_bias',
        'neck.regressor_layers.1.gamma_1': 'regresser.regressor_blocks.1.gamma_1_cross',
        'neck.regressor_layers.1.ffn.layers.0.0.weight':
            'regresser.regressor_blocks.1.mlp_cross.fc1.weight',
        'neck.decoder_layers.1.attn.qkv.weight': 'decoder.decoder_blocks.1.attn.qkv.weight',
        'neck.decoder_layers.0.ln2.weight': 'decoder.decoder_blocks.0.norm2.weight',
        'neck.regressor_norm.weight': 'regresser.norm.weight',
        'neck.decoder_norm.bias': 'decoder.norm.bias',
        'neck.predictor.weight': 'decoder.head.weight',
        'neck.mask_token': 'mask_token',
    }
    state = model.state_dict()
    for ours, theirs in pairs.items():
        assert torch.equal(state[ours], release[theirs]), ours


def test_a_missing_key_is_named():
    release = reference_release()
    del release['regresser.regressor_blocks.1.cross_attn.q_bias']
    with pytest.raises(KeyError, match='regressor_blocks.1.cross_attn.q_bias'):
        cae_release_to_mmssl(release, 'official')


def test_mmpretrain_release_round_trip():
    torch.manual_seed(1)
    theirs = MODELS.build(dict(
        type='CAE',
        backbone=dict(type='CAEPretrainViT', arch=ARCH, img_size=GRID * PATCH,
                      patch_size=PATCH, layer_scale_init_value=0.1),
        neck=dict(type='CAENeck', num_classes=OUT, embed_dims=C, num_heads=HEADS,
                  regressor_depth=DEPTH, decoder_depth=DEPTH, layer_scale_init_value=0.1,
                  mask_tokens_num=8),
        head=dict(type='CAEHead', loss=dict(type='CAELoss', lambd=2)),
        target_generator=dict(type='DALL-E', n_hid=4, n_blk_per_group=1, vocab_size=OUT)))
    release = {key: value.clone().normal_() if value.is_floating_point() else value
               for key, value in theirs.state_dict().items()}
    converted, report = cae_release_to_mmssl(release, 'mmpretrain')
    assert report.unused == []
    ours = build_ours()
    ours.load_state_dict(converted, strict=True)
    assert torch.equal(ours.state_dict()['target_generator.blocks.input.w'],
                       release['target_generator.blocks.input.w'])
    theirs.load_state_dict(release)
    images = torch.randn(2, 3, GRID * PATCH, GRID * PATCH)
    mask = torch.zeros(2, GRID * GRID, dtype=torch.bool)
    mask[:, ::2] = True
    torch.testing.assert_close(ours.eval().backbone(images, mask),
                               theirs.eval().backbone(images, mask), rtol=1e-4, atol=1e-4)


def test_folded_backbone_equals_the_encoder_in_a_vision_transformer():
    ours = build_ours().eval()
    with torch.no_grad():
        for name, param in ours.backbone.named_parameters():
            if name != 'pos_embed':
                param.normal_(0, 0.2)
    state = {f'backbone.{k}': v for k, v in ours.backbone.state_dict().items()}
    vit_weights = cae_to_backbone(state, target='vit')
    assert not any('q_bias' in key or 'gamma_' in key for key in vit_weights)
    vit = VisionTransformer(arch=ARCH, img_size=GRID * PATCH, patch_size=PATCH,
                            qkv_bias=True, layer_scale_init_value=0.1, out_type='raw',
                            norm_cfg=dict(type='LN', eps=1e-6))
    vit.eval()
    missing, unexpected = vit.load_state_dict(vit_weights, strict=False)
    assert not missing and not unexpected
    images = torch.randn(2, 3, GRID * PATCH, GRID * PATCH)
    torch.testing.assert_close(vit(images)[0], ours.backbone(images)[0], rtol=1e-4, atol=1e-4)
    assert cae_to_backbone(state).keys() == ours.backbone.state_dict().keys()


def test_extract_backbone_detects_cae_and_the_tool_writes_it(tmp_path):
    ours = build_ours()
    backbone, algorithm, encoder = extract_backbone(ours.state_dict())
    assert (algorithm, encoder) == ('cae', 'encoder')
    assert backbone.keys() == ours.backbone.state_dict().keys()
    src = tmp_path / 'release.pth'
    torch.save({'model': reference_release()}, src)
    dst = tmp_path / 'backbone.pth'
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'model_converters', 'convert.py'),
         '--from', 'cae-official', str(src), str(dst), '--backbone-only', '--format', 'vit'],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    written = torch.load(dst, weights_only=True)['state_dict']
    assert 'layers.0.attn.qkv.bias' in written and 'layers.0.attn.gamma1.weight' in written
