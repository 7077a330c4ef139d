"""LastBlocksClsViT: DINO / iBOT's linear-probe feature from a plain ViT."""
import pytest
import torch
from mmpretrain.models.backbones import VisionTransformer

from mmssl_ext.models.backbones import LastBlocksClsViT

ARCH = dict(embed_dims=48, num_layers=3, num_heads=3, feedforward_channels=96)


@pytest.mark.parametrize('num_blocks, avgpool', [(2, False), (1, True)])
def test_feature_is_normed_cls_of_last_blocks(num_blocks, avgpool):
    torch.manual_seed(0)
    reference = VisionTransformer(arch=ARCH, img_size=32, patch_size=8, out_type='raw',
                                  out_indices=(0, 1, 2), final_norm=False)
    reference.eval()
    model = LastBlocksClsViT(num_blocks=num_blocks, avgpool=avgpool, arch=ARCH, img_size=32,
                             patch_size=8)
    model.load_state_dict(reference.state_dict(), strict=False)
    model.ln1.weight.data.normal_()
    model.eval()
    images = torch.randn(2, 3, 32, 32)
    blocks = reference(images)  # un-normed outputs of every block
    expected = [model.ln1(blocks[i])[:, 0] for i in range(3 - num_blocks, 3)]
    if avgpool:
        expected.append(model.ln1(blocks[-1])[:, 1:].mean(1))
    feature = model(images)[0]
    assert feature.shape == (2, 48 * (num_blocks + avgpool))
    assert torch.allclose(feature, torch.cat(expected, -1), atol=1e-5)
    assert set(model.state_dict()) == set(reference.state_dict()) | {'ln1.weight', 'ln1.bias'}


def test_bad_num_blocks():
    with pytest.raises(ValueError, match='num_blocks'):
        LastBlocksClsViT(num_blocks=4, arch=ARCH, img_size=32, patch_size=8)
