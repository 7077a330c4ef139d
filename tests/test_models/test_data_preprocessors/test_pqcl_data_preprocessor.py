"""PQCLDataPreprocessor: per-view augmentation, normalisation, no flips."""
import pytest
import torch
from mmpretrain.structures import DataSample

from mmssl_ext.models.data_preprocessors import PQCLDataPreprocessor


def _batch():
    return dict(inputs=[torch.randint(0, 255, (2, 2, 3, 32, 32), dtype=torch.uint8),
                        torch.randint(0, 255, (2, 1, 3, 16, 16), dtype=torch.uint8)],
                data_samples=[DataSample(query_coords=torch.rand(2, 1, 4, 2),
                                         mask=torch.rand(2, 4, 4) > 0.5) for _ in range(2)])


def test_outputs():
    batch = _batch()
    out = PQCLDataPreprocessor()(batch, True)
    globals_, queries = out['inputs']
    assert globals_.shape == (2, 2, 3, 32, 32) and globals_.dtype == torch.float32
    assert queries.shape == (2, 1, 3, 16, 16)
    for sample, raw in zip(out['data_samples'], batch['data_samples']):  # left untouched
        assert torch.equal(sample.query_coords, raw.query_coords)
        assert torch.equal(sample.mask, raw.mask)


def test_identity_augments_only_normalise_rgb():
    off = dict(jitter_prob=0., gray_prob=0., blur_prob=0., solarize_prob=0., flip_prob=0.)
    preprocessor = PQCLDataPreprocessor(mean=(1., 2., 3.), std=(2., 2., 2.),
                                        global_augments=[off, off], query_augment=off)
    batch = _batch()
    globals_ = preprocessor(batch, True)['inputs'][0]
    bgr = batch['inputs'][0].float()
    assert torch.allclose(globals_[:, :, 0], (bgr[:, :, 2] - 1) / 2)


def test_flip_in_an_augment_is_rejected():
    with pytest.raises(ValueError, match=r'global_augments\[1\].flip_prob'):
        PQCLDataPreprocessor(global_augments=[dict(flip_prob=0.), dict(flip_prob=0.5)])


def test_zero_global_views_are_rejected():
    with pytest.raises(ValueError, match='global_augments'):
        PQCLDataPreprocessor(global_augments=[])
