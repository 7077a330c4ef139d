"""RGBDataPreprocessor: BGR -> RGB and mean / std, by hand."""
import pytest
import torch

from mmssl_ext.models.data_preprocessors import RGBDataPreprocessor


def test_normalize_by_hand():
    preprocessor = RGBDataPreprocessor(mean=(10., 20., 30.), std=(1., 2., 4.))
    bgr = torch.tensor([30., 20., 10.]).view(3, 1, 1).expand(2, 5, 3, 2, 2).to(torch.uint8)
    out = preprocessor.normalize(bgr)  # RGB (10, 20, 30) -> zeros
    assert out.shape == (2, 5, 3, 2, 2) and out.dtype == torch.float32
    assert out.abs().max() == 0
    rgb = torch.full((1, 3, 1, 1), 50.)
    torch.testing.assert_close(preprocessor.standardize(rgb).flatten(),
                               torch.tensor([40., 15., 5.]))
    assert torch.equal(RGBDataPreprocessor(to_rgb=False).rgb(bgr), bgr.float())


def test_bad_statistics_fail_at_build():
    with pytest.raises(ValueError, match='std > 0'):
        RGBDataPreprocessor(std=(1., 0., 1.))
