"""PQCL algorithm: losses equal hand computations; teacher, centres, bad configs."""
import copy

import pytest
import torch
from mmengine.logging import MessageHub

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

ARCH = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)
HEAD = dict(type='IBOTProjectionHead', in_channels=48, out_channels=16, hidden_channels=32,
            bottleneck_channels=8)


def _model(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='PQCL',
               backbone=dict(type='QueryViT', arch=ARCH, img_size=32, patch_size=8,
                             drop_path_rate=0.1),
               head=HEAD, data_preprocessor=dict(type='PQCLDataPreprocessor'))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _inputs(batch=2, queries=1):
    """``inputs`` (global views, query crops) and data samples (query coords, masks)."""
    torch.manual_seed(1)
    images = [torch.randn(batch, 2, 3, 32, 32), torch.randn(batch, queries, 3, 16, 16)]
    coords, masks = torch.rand(batch, 2, queries, 4, 2) * 4, torch.rand(batch, 2, 4, 4) > 0.6
    return images, [DataSample(query_coords=c, mask=m) for c, m in zip(coords, masks)]


@pytest.mark.parametrize('queries', [1, 2])
def test_loss_step_updates_everything(queries):
    MessageHub.get_current_instance().update_info('iter', 0)
    MessageHub.get_current_instance().update_info('max_iters', 10)
    model = _model()
    assert torch.equal(model.teacher_backbone.module.layers[0].attn.qkv.weight,
                       model.backbone.layers[0].attn.qkv.weight)
    model.train()
    assert not model.teacher_backbone.module.training and model.backbone.training
    losses = model.loss(*_inputs(queries=queries))
    assert set(losses) == {'loss_cls', 'loss_mim', 'loss_query', 'teacher_temp'}
    for key in ('loss_cls', 'loss_mim', 'loss_query'):
        assert losses[key].ndim == 0 and torch.isfinite(losses[key])
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert model.backbone.mask_token.grad.abs().sum() > 0
    for kind in ('cls', 'patch', 'query'):
        assert model.losses[kind].center.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher_backbone.parameters())
    before = model.teacher_backbone.module.layers[0].attn.qkv.weight.clone()
    with torch.no_grad():
        model.backbone.layers[0].attn.qkv.weight.add_(1.)
    model.update_target()
    after = model.teacher_backbone.module.layers[0].attn.qkv.weight
    assert torch.allclose(after, before + 0.004, atol=1e-5)


def test_dino_variant_has_no_mim_and_separate_heads():
    model = _model(use_mim=False, query_head=dict(HEAD, out_channels=24))
    assert set(model.losses) == {'cls', 'query'}
    assert model.losses['query'].center.shape == (1, 24)
    losses = model.loss(*_inputs())
    assert 'loss_mim' not in losses and torch.isfinite(losses['loss_query'])


def test_train_step_through_data_preprocessor():
    from mmengine.optim import OptimWrapper
    model = _model()
    images, data_samples = _inputs()
    raw = [(x * 0 + 100).to(torch.uint8) for x in images]
    wrapper = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=1e-3))
    log = model.train_step(dict(inputs=raw, data_samples=data_samples), wrapper)
    assert {'loss', 'loss_cls', 'loss_mim', 'loss_query'} <= set(log)


def test_head_dim_mismatch_names_the_parameter():
    with pytest.raises(ValueError, match='head.in_channels'):
        _model(head=dict(HEAD, in_channels=64))
    with pytest.raises(ValueError, match='query_head.in_channels'):
        _model(query_head=dict(HEAD, in_channels=32))


def test_teacher_eval_mode_disables_drop_path():
    model = _model()
    model.train()
    images = torch.randn(2, 3, 32, 32)
    a, _ = model.teacher_backbone.module.forward_tokens(images)
    b, _ = model.teacher_backbone.module.forward_tokens(images)
    assert torch.equal(a, b)
    copy.deepcopy(model)  # parametrized heads deep-copy


def test_extracted_features_are_the_teachers():
    """extract_feat (the k-NN monitor's features) reads the teacher encoder, the one
    extract_backbone.py hands on, not the student."""
    model = _model()
    model.eval()
    with torch.no_grad():
        model.backbone.layers[0].attn.qkv.weight.add_(1.)
    images = torch.randn(2, 3, 32, 32)
    teacher = model.teacher_backbone.module(images)[-1]
    assert torch.equal(model.extract_feat(images)[-1], teacher)
    assert not torch.allclose(model.backbone(images)[-1], teacher)


def test_teacher_head_batchnorm_uses_batch_statistics_while_training():
    """As DINO's teacher: with ``use_bn`` the teacher head normalises with the current
    batch's statistics while training, so adding one vector to every token of the
    batch changes nothing; with running statistics (eval) it does. The teacher's
    backbone stays in eval mode (no drop path)."""
    model = _model(head=dict(HEAD, use_bn=True))
    teacher_head = model.teacher_heads.module['cls']
    tokens = torch.randn(8, 48)
    shifted = tokens + 3 * torch.randn(1, 48)
    model.train()
    assert not model.teacher_backbone.module.training
    assert all(m.training for m in teacher_head.modules()
               if isinstance(m, torch.nn.BatchNorm1d))
    with torch.no_grad():
        assert torch.allclose(teacher_head(tokens), teacher_head(shifted), atol=1e-5)
    model.eval()
    assert not any(m.training for m in model.modules())
    with torch.no_grad():
        assert not torch.allclose(teacher_head(tokens), teacher_head(shifted), atol=1e-2)


def test_zero_query_weight_switches_the_query_stream_off():
    """iBOT alone: no query tokens, no query loss or centre update, and the same
    class / masked-patch losses as with queries (queries never change global tokens)."""
    with_queries, without = _model(), _model(query_loss_weight=0.)
    without.load_state_dict(with_queries.state_dict())
    with_queries.eval()
    without.eval()  # no drop path: both runs see identical global tokens
    reference = with_queries.loss(*_inputs())
    losses = without.loss(*_inputs())
    assert set(losses) == {'loss_cls', 'loss_mim', 'teacher_temp'}
    for key in ('loss_cls', 'loss_mim'):
        torch.testing.assert_close(losses[key], reference[key])
    assert without.losses['query'].center.abs().sum() == 0


def test_negative_query_loss_weight_fails_at_build():
    with pytest.raises(ValueError, match='query_loss_weight must be >= 0'):
        _model(query_loss_weight=-0.5)


def test_mim_loss_equals_ibot_formula_over_every_patch():
    """The student projects only its masked patches; the loss is iBOT's, computed here
    from the logits of every patch (per image: CE summed over masked patches / #masked,
    mean over images), and so are its gradients."""
    model = _model(query_loss_weight=0.)
    model.eval()  # no drop path
    inputs, data_samples = _inputs(batch=3)
    images = inputs[0].transpose(0, 1).flatten(0, 1)  # (G*B, 3, S, S) view-major
    masks = torch.stack([s.mask for s in data_samples], 1).flatten(0, 1).flatten(1)
    tokens, _ = model.backbone.forward_tokens(images, masks.view(-1, 4, 4))
    student = model.heads['cls'](tokens[:, 1:])  # (G*B, L, K) every patch
    with torch.no_grad():
        teacher_tokens, _ = model.teacher_backbone.module.forward_tokens(images)
        teacher = model.teacher_heads.module['cls'](teacher_tokens[:, 1:])
    probs = torch.softmax((teacher - model.losses['patch'].center) / 0.04, -1)
    per_token = -(probs * torch.log_softmax(student / 0.1, -1)).sum(-1)
    expected = ((per_token * masks).sum(1) / masks.sum(1).clamp(min=1)).mean()
    expected.backward()
    reference = model.backbone.layers[0].attn.qkv.weight.grad.clone()
    model.zero_grad()
    loss = model.loss(inputs, data_samples)['loss_mim']
    torch.testing.assert_close(loss, expected)
    loss.backward()
    torch.testing.assert_close(model.backbone.layers[0].attn.qkv.weight.grad, reference)
