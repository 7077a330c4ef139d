"""ReSimDataPreprocessor: batched colour augmentation of both views, geometry untouched."""
import pytest
import torch
from mmpretrain.structures import DataSample

from mmssl_ext.models.data_preprocessors import ReSimDataPreprocessor


def test_outputs_normalised_views():
    preprocessor = ReSimDataPreprocessor()
    views = [torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8) for _ in range(2)]
    samples = [DataSample() for _ in range(3)]
    out = preprocessor(dict(inputs=views, data_samples=samples), training=False)
    query, key = out['inputs']
    assert query.shape == key.shape == (3, 3, 32, 32) and query.dtype == torch.float32
    expected = (views[0].float().flip(1) - preprocessor.mean) / preprocessor.std
    assert torch.allclose(query, expected)
    assert len(out['data_samples']) == 3
    torch.manual_seed(0)
    augmented, _ = preprocessor(dict(inputs=views, data_samples=samples), training=True)['inputs']
    assert augmented.shape == query.shape and not torch.allclose(augmented, query)


def test_per_view_flip_is_refused():
    with pytest.raises(ValueError, match='flip_prob'):
        ReSimDataPreprocessor(augment=dict(flip_prob=0.5))
