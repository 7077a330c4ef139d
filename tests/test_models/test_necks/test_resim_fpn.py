"""ReSimFPN: lateral 1x1 + nearest top-down sums, 3x3 outputs on the chosen levels."""
import pytest
import torch

from mmssl_ext.models.necks import ReSimFPN


def test_top_down_path():
    fpn = ReSimFPN(in_channels=(4, 8, 16), out_channels=6, out_indices=(0, 1))
    c3, c4, c5 = torch.randn(2, 4, 8, 8), torch.randn(2, 8, 4, 4), torch.randn(2, 16, 2, 2)
    p3, p4 = fpn((c3, c4, c5))
    assert p3.shape == (2, 6, 8, 8) and p4.shape == (2, 6, 4, 4)
    up = lambda x: x.repeat_interleave(2, -1).repeat_interleave(2, -2)  # noqa: E731
    m5 = fpn.lateral_convs[2](c5)
    m4 = fpn.lateral_convs[1](c4) + up(m5)
    m3 = fpn.lateral_convs[0](c3) + up(m4)
    assert torch.allclose(p3, fpn.output_convs[0](m3), atol=1e-5)
    assert torch.allclose(p4, fpn.output_convs[1](m4), atol=1e-5)
    assert len(fpn.output_convs) == 2


def test_bad_out_indices():
    with pytest.raises(ValueError, match='out_indices'):
        ReSimFPN(out_indices=(1, 0))
