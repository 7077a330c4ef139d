"""CIMDataPreprocessor: device path and CPU path give the same kind of batch."""
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from mmssl_ext.datasets.transforms import PackCIMInputs, SampleCIMExemplars
from mmssl_ext.models.data_preprocessors import CIMDataPreprocessor

SAMPLER = dict(base_size=96, context_size=64, exemplar_size=32, num_exemplars=4)
MEAN, STD = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)


def _base_batch(num=3):
    torch.manual_seed(0)
    return torch.randint(0, 256, (num, 3, 96, 96), dtype=torch.uint8)


def _run(preprocessor, data):
    """contexts, exemplars (``inputs``) and the data samples' stacked maps."""
    out = preprocessor(data, True)
    contexts, exemplars = out['inputs']
    maps = torch.stack([sample.correlation_maps for sample in out['data_samples']])
    return contexts, exemplars, maps


def test_device_path_shapes_dtypes_and_normalisation():
    preprocessor = CIMDataPreprocessor(sampler=SAMPLER)
    contexts, exemplars, maps = _run(preprocessor, dict(inputs=_base_batch()))
    assert contexts.shape == (3, 3, 64, 64) and contexts.dtype == torch.float32
    assert exemplars.shape == (3, 4, 3, 32, 32)
    assert maps.shape == (3, 4, 64, 64) and maps.dtype == torch.long
    assert set(maps.unique().tolist()) <= {0, 1}
    low = (torch.tensor([0.] * 3) - torch.tensor(MEAN)) / torch.tensor(STD)
    high = (torch.tensor([255.] * 3) - torch.tensor(MEAN)) / torch.tensor(STD)
    for images in (contexts, exemplars.flatten(0, 1)):
        per_channel = images.transpose(0, 1).flatten(1)
        assert (per_channel.min(1).values >= low - 1e-4).all()
        assert (per_channel.max(1).values <= high + 1e-4).all()


def test_context_is_resized_base_and_bgr_to_rgb():
    preprocessor = CIMDataPreprocessor(sampler=SAMPLER)
    base = torch.zeros(1, 3, 96, 96, dtype=torch.uint8)
    base[:, 0] = 255  # blue in BGR
    contexts = preprocessor(dict(inputs=base), True)['inputs'][0]
    expected_rgb = (torch.tensor([0., 0., 255.]) - torch.tensor(MEAN)) / torch.tensor(STD)
    torch.testing.assert_close(contexts[0, :, 10, 10], expected_rgb)


def test_map_area_follows_scale_range():
    preprocessor = CIMDataPreprocessor(
        sampler=dict(SAMPLER, scale_range=(0.2, 0.21), rotation_range=(-1., 1.)))
    maps = _run(preprocessor, dict(inputs=_base_batch(8)))[2]
    area = maps.float().mean((2, 3))
    assert ((area > 0.17) & (area < 0.24)).all()


def test_cpu_path_only_normalises():
    transform = SampleCIMExemplars(**SAMPLER)
    rng = np.random.default_rng(0)
    samples = [PackCIMInputs()(transform(dict(
        img=rng.integers(0, 256, (96, 96, 3), dtype=np.uint8), img_path='x')))
        for _ in range(2)]
    batch = default_collate(samples)
    preprocessor = CIMDataPreprocessor(sample_on_device=False)
    raw_maps = torch.stack([sample.correlation_maps for sample in batch['data_samples']])
    contexts, exemplars, maps = _run(preprocessor, batch)
    raw_context = batch['inputs'][0][1].float().flip(0)
    expected = (raw_context - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)
    torch.testing.assert_close(contexts[1], expected)
    assert exemplars.shape == (2, 4, 3, 32, 32) and maps.dtype == torch.long
    torch.testing.assert_close(maps, raw_maps.long())


def test_same_geometry_distribution_on_both_paths():
    """Map-area statistics of the CPU and device paths agree."""
    torch.manual_seed(0)
    device_maps = _run(CIMDataPreprocessor(sampler=SAMPLER), dict(inputs=_base_batch(100)))[2]
    transform = SampleCIMExemplars(**SAMPLER)
    cpu_maps = torch.stack([torch.from_numpy(transform(dict(
        img=np.zeros((96, 96, 3), np.uint8), img_path='x'))['correlation_maps'])
        for _ in range(100)])
    device_area, cpu_area = device_maps.float().mean((2, 3)), cpu_maps.float().mean((2, 3))
    assert device_area.mean().item() == pytest.approx(cpu_area.mean().item(), abs=0.03)
    assert device_area.std().item() == pytest.approx(cpu_area.std().item(), abs=0.03)


def test_bf16_autocast_keeps_fp32_geometry():
    preprocessor = CIMDataPreprocessor(sampler=SAMPLER)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        contexts, exemplars, maps = _run(preprocessor, dict(inputs=_base_batch()))
    assert contexts.dtype == torch.float32 and exemplars.dtype == torch.float32


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match='num_exemplars'):
        CIMDataPreprocessor(sampler=dict(num_exemplars=0))
    with pytest.raises(ValueError, match='std'):
        CIMDataPreprocessor(std=(1., 0., 1.))


def test_device_path_is_deterministic_under_a_seed():
    preprocessor = CIMDataPreprocessor(sampler=SAMPLER)
    base = _base_batch()
    outputs = []
    for _ in range(2):
        torch.manual_seed(5)
        outputs.append(_run(preprocessor, dict(inputs=base)))
    for first, second in zip(*outputs):
        torch.testing.assert_close(first, second)


@pytest.mark.gpu
def test_cuda_fp16_autocast_matches_the_cpu_geometry():
    preprocessor = CIMDataPreprocessor(sampler=SAMPLER).cuda()
    base = _base_batch(100)
    torch.manual_seed(0)
    with torch.autocast('cuda', dtype=torch.float16):
        contexts, exemplars, maps = _run(preprocessor, dict(inputs=base.cuda()))
    assert contexts.is_cuda and contexts.dtype == exemplars.dtype == torch.float32
    assert bool(torch.isfinite(exemplars).all()) and maps.dtype == torch.long
    cpu_maps = _run(CIMDataPreprocessor(sampler=SAMPLER), dict(inputs=base))[2]
    cuda_area, cpu_area = maps.float().mean((2, 3)).cpu(), cpu_maps.float().mean((2, 3))
    assert cuda_area.mean().item() == pytest.approx(cpu_area.mean().item(), abs=0.03)
