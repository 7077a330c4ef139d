"""CIM's data preprocessor: the pretext task sampled batched on the training device."""
from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmssl_ext.registry import MODELS
from ..utils.batch_augment import BatchPhotometricAugment
from ..utils.cim_exemplar_sampler import CIMExemplarSampler


@MODELS.register_module()
class CIMDataPreprocessor(BaseDataPreprocessor):
    """Normalise CIM inputs, optionally sampling the pretext task on the device.

    ``sample_on_device=True`` (default, fast path): the data workers only decode, crop
    and flip the base image (``PackInputs``); here, for the whole batch at once, the
    context is resized, the exemplars are cut with one ``grid_sample``
    (:class:`CIMExemplarSampler`), their maps rasterised exactly, and the exemplar-only
    augmentations run batched (:class:`BatchPhotometricAugment`). Workers then spend a
    few ms per sample instead of tens.

    ``sample_on_device=False``: inputs come from ``SampleCIMExemplars`` +
    ``PackCIMInputs`` (CPU path) and are only converted and normalised.

    Output: ``inputs = [contexts (B, 3, Hc, Wc), exemplars (B, N, 3, He, We),
    correlation_maps (B, N, Hc, Wc) long]``, images normalised with ``mean`` / ``std``.

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
        super().__init__()
        if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
            raise ValueError(f'mean and std must have 3 values, std > 0; got {mean}, {std}')
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1), False)
        self.to_rgb = to_rgb
        self.sample_on_device = sample_on_device
        self.sampler = CIMExemplarSampler(**(sampler or {})) if sample_on_device else None
        self.exemplar_augment = (BatchPhotometricAugment(**(exemplar_augment or {}))
                                 if sample_on_device else None)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """(..., 3, H, W) images in [0, 255] -> normalised float."""
        shape = images.shape
        images = images.reshape(-1, *shape[-3:]).float()
        if self.to_rgb:
            images = images.flip(1)
        return ((images - self.mean) / self.std).view(shape)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if self.sample_on_device:
            base = torch.stack(inputs) if isinstance(inputs, (list, tuple)) else inputs
            with torch.autocast(base.device.type, enabled=False):
                contexts, exemplars, maps = self.sampler(base.float())
                batch, num = exemplars.shape[:2]
                flat = exemplars.flatten(0, 1)
                if self.to_rgb:  # augment in RGB, then back to the input's order
                    flat = self.exemplar_augment(flat.flip(1)).flip(1)
                else:
                    flat = self.exemplar_augment(flat)
                exemplars = flat.unflatten(0, (batch, num))
        else:
            contexts, exemplars, maps = inputs
        return dict(inputs=[self.normalize(contexts), self.normalize(exemplars),
                            maps.long()],
                    data_samples=data.get('data_samples'))
