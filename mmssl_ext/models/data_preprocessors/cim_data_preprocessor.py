"""CIM's data preprocessor: the pretext task sampled batched on the training device."""
from typing import Optional, Sequence

import torch

from mmssl_ext.registry import MODELS
from ..utils.data_samples import set_sample_field, stack_sample_field
from .rgb_data_preprocessor import RGBDataPreprocessor
from mmssl_ext.datasets.transforms import BatchPhotometricAugment, CIMExemplarSampler


@MODELS.register_module()
class CIMDataPreprocessor(RGBDataPreprocessor):
    """Normalise CIM inputs, optionally sampling the pretext task on the device.

    ``sample_on_device=True`` (default, fast path): the data workers only decode, crop
    and flip the base image (``PackInputs``); here, for the whole batch at once, the
    context is resized, the exemplars are cut with one ``grid_sample``
    (:class:`CIMExemplarSampler`), their maps rasterised exactly, and the exemplar-only
    augmentations run batched (:class:`BatchPhotometricAugment`). Workers then spend a
    few ms per sample instead of tens.

    ``sample_on_device=False``: inputs come from ``SampleCIMExemplars`` +
    ``PackCIMInputs`` (CPU path) and are only converted and normalised.

    Output: ``inputs = [contexts (B, 3, Hc, Wc), exemplars (B, N, 3, He, We)]``
    normalised with ``mean`` / ``std``; each data sample carries its
    ``correlation_maps`` ((N, Hc, Wc) long in {0, 1}).

    Args:
        mean, std (Sequence[float]): per-channel normalisation (of RGB when
            ``to_rgb``). Defaults to ImageNet's.
        to_rgb (bool): convert BGR inputs (cv2 decoding) to RGB. Defaults to True.
        sample_on_device (bool): sample the pretext task here. Defaults to True.
        sampler (dict, optional): :class:`CIMExemplarSampler` arguments.
        exemplar_augment (dict, optional): :class:`BatchPhotometricAugment` arguments;
            defaults to the reference's exemplar augmentation.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 to_rgb: bool = True,
                 sample_on_device: bool = True,
                 sampler: Optional[dict] = None,
                 exemplar_augment: Optional[dict] = None) -> None:
        super().__init__(mean, std, to_rgb)
        self.sample_on_device = sample_on_device
        self.sampler = CIMExemplarSampler(**(sampler or {})) if sample_on_device else None
        self.exemplar_augment = (BatchPhotometricAugment(**(exemplar_augment or {}))
                                 if sample_on_device else None)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if not self.sample_on_device:
            contexts, exemplars = inputs
            maps = stack_sample_field(data.get('data_samples'), 'correlation_maps',
                                      dtype=torch.long)
            return dict(inputs=[self.normalize(contexts), self.normalize(exemplars)],
                        data_samples=set_sample_field(data.get('data_samples'),
                                                      'correlation_maps', maps))
        base = torch.stack(inputs) if isinstance(inputs, (list, tuple)) else inputs
        with torch.autocast(base.device.type, enabled=False):
            contexts, exemplars, maps = self.sampler(self.rgb(base))
            exemplars = self.exemplar_augment(exemplars.flatten(0, 1)).view_as(exemplars)
        data_samples = set_sample_field(data.get('data_samples'), 'correlation_maps',
                                        maps.long())
        return dict(inputs=[self.standardize(contexts), self.standardize(exemplars)],
                    data_samples=data_samples)
