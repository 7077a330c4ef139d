"""The small-scale Fashion-MNIST configs of CIM, CAE and their MAE peer (issue 13) share
one encoder: after extraction each loads strictly into the k-NN benchmark's
VisionTransformer and gives the class token the training model's k-NN monitor sees."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS
from mmssl_ext.converters import cae_to_backbone, extract_backbone, strip_prefix

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
KNN_CONFIG = osp.join(ROOT, 'configs', 'pqcl', 'benchmarks', 'vit-t_knn-fmnist.py')


def _cim(state_dict):
    backbone, algorithm, encoder = extract_backbone(state_dict)
    assert (algorithm, encoder) == ('cim', 'online')
    return backbone, {}


def _cae(state_dict):
    # BEiT-style q/v bias folded into qkv bias; LayerScale needs the option below.
    return cae_to_backbone(state_dict, target='vit'), dict(layer_scale_init_value=0.1)


def _mae(state_dict):
    return strip_prefix(state_dict, 'backbone.'), {}


EXTRACTORS = {
    'cim/vit-t_small-scale_fmnist.py': _cim,
    'cae/vit-t_small-scale_fmnist.py': _cae,
    'cae/mae_vit-t_small-scale_fmnist.py': _mae,
}


def _build(name):
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    model_cfg = cfg.model.copy()
    model_cfg.pop('_scope_', None)
    model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    model.init_weights()
    model.eval()
    return cfg, model


@pytest.mark.parametrize('name', sorted(EXTRACTORS))
def test_extracted_encoder_loads_strictly_into_the_knn_vit(name):
    torch.manual_seed(0)
    cfg, model = _build(name)
    backbone, options = EXTRACTORS[name](model.state_dict())
    knn_cfg = Config.fromfile(KNN_CONFIG).model
    knn_cfg.update(options, init_cfg=None)
    vit = MODELS.build(knn_cfg)
    vit.load_state_dict(backbone, strict=True)
    vit.eval()  # mmpretrain's ViT.train() returns None: no chaining

    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        tokens = model.extract_feat(images)
        tokens = tokens[-1] if isinstance(tokens, (list, tuple)) else tokens
        cls_token = vit(images)[-1]
    assert tokens.shape == (2, 65, 128) and cls_token.shape == (2, 128)
    torch.testing.assert_close(cls_token, tokens[:, 0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('name', sorted(EXTRACTORS))
def test_budget_and_monitor(name):
    """Batch 64 on a subset of the pre-training images, one checkpoint at the end,
    the k-NN monitor on the stored 32 px images."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', name))
    loader = cfg.train_dataloader
    assert loader.batch_size == 64 and loader.dataset.data_prefix == 'pretrain'
    assert loader.dataset.data_root == 'data/fashion_mnist'
    assert cfg.default_hooks.checkpoint.interval == cfg.train_cfg.max_epochs
    knn, = [hook for hook in cfg.custom_hooks if hook.type == 'KNNMonitorHook']
    assert knn.bank_dataloader.dataset.split == 'train'
    assert knn.query_dataloader.dataset.split == 'val'
    assert not any(t.type == 'Resize' for t in knn.query_dataloader.dataset.pipeline)
