"""User configs that inherit ours (``mmssl_ext::``) and mmpretrain's (``mmpretrain::``)
resolve, build in the right scope and train through tools/train.py."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

import mmssl_ext  # noqa: F401  (lists mmssl_ext among mmengine's config packages)
from mmssl_ext.utils.config import drop_inherited_scopes

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

INHERIT_CIM = """
_base_ = ['mmssl_ext::cim/vit-t_demo.py']
train_dataloader = dict(num_workers=0, dataset=dict(data_root={images!r}))
train_cfg = dict(max_epochs=1)
"""

INHERIT_MMPRETRAIN = """
_base_ = ['mmpretrain::_base_/datasets/imagenet_bs512_mae.py',
          'mmssl_ext::_base_/default_runtime.py']
model = dict(
    type='MAE',
    backbone=dict(type='MAEViT', arch=dict(embed_dims=64, num_layers=2, num_heads=2,
                                           feedforward_channels=128),
                  img_size=64, patch_size=16, mask_ratio=0.75),
    neck=dict(type='MAEPretrainDecoder', num_patches=16, patch_size=16, embed_dim=64,
              decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=2, mlp_ratio=2.),
    head=dict(type='MAEPretrainHead', norm_pix=True, patch_size=16,
              loss=dict(type='PixelReconstructionLoss', criterion='L2')))
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type='CustomDataset', data_root={images!r},
                 data_prefix='train', with_label=False,
                 pipeline=[dict(type='LoadImageFromFile'),
                           dict(type='RandomResizedCrop', scale=64),
                           dict(type='PackInputs')]))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1)
"""


def _write(tmp_path, text, images):
    path = tmp_path / 'user_config.py'
    path.write_text(text.format(images=str(images)))
    return str(path)


def test_inherited_dicts_are_built_in_the_declared_scope(tmp_path):
    cfg = Config.fromfile(_write(tmp_path, INHERIT_CIM, 'data'))
    assert cfg.filename.endswith('user_config.py') and cfg.model.type == 'CIM'
    assert cfg.visualizer._scope_ == 'mmssl_ext'  # what mmengine stamps
    drop_inherited_scopes(cfg)
    assert '_scope_' not in cfg.visualizer and '_scope_' not in cfg.model
    assert cfg.default_scope == 'mmpretrain'

    cfg = Config.fromfile(_write(tmp_path, INHERIT_MMPRETRAIN, 'data'))
    assert cfg.train_dataloader.collate_fn._scope_ == 'mmpretrain'
    drop_inherited_scopes(cfg)
    assert cfg.train_dataloader.collate_fn == dict(type='default_collate')
    assert cfg.train_dataloader.sampler._scope_ == 'mmpretrain'  # other packages' stay


@pytest.mark.slow
@pytest.mark.parametrize('text', [INHERIT_CIM, INHERIT_MMPRETRAIN], ids=['cim', 'mmpretrain'])
def test_user_config_inheriting_ours_trains(text, tmp_path, demo_data_root):
    config = _write(tmp_path, text, demo_data_root / 'imagenet')
    result = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'), config, '--work-dir',
         str(tmp_path / 'work')], cwd=tmp_path, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'), check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    checkpoint = torch.load(tmp_path / 'work' / 'epoch_1.pth', weights_only=True)
    assert checkpoint['meta']['model_kind']['algorithm'] in ('CIM', 'MAE')
