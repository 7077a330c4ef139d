"""CIM's pretext task on the CPU, inside the data pipeline (one image at a time)."""
from typing import List, Optional

import numpy as np
import torch
from mmcv.transforms import BaseTransform, Compose
from mmpretrain.structures import DataSample

from mmssl_ext.models.utils.cim_exemplar_sampler import CIMExemplarSampler
from mmssl_ext.registry import TRANSFORMS

#: Exemplar-only augmentation of the reference (mmpretrain / mmcv transforms).
DEFAULT_EXEMPLAR_PIPELINE = [
    dict(type='RandomApply',
         transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4,
                          saturation=0.2, hue=0.1)],
         prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True,
         channel_weights=(0.114, 0.587, 0.299)),
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5),
    dict(type='Solarize', thr=128, prob=0.2),
    dict(type='RandomFlip', prob=0.5),
]


@TRANSFORMS.register_module()
class SampleCIMExemplars(BaseTransform):
    """Make CIM's context, exemplars and correlation maps from one base image (CPU path).

    Use after ``RandomResizedCrop(224)`` + ``RandomFlip``. The geometry is
    :class:`CIMExemplarSampler` (the same code the device path runs batched in
    :class:`CIMDataPreprocessor`); then ``exemplar_pipeline`` (mmpretrain / mmcv
    transforms, default: the reference's colour jitter, grayscale, blur, solarize and
    flip) is applied to each exemplar's pixels only — the maps are never flipped.

    Required keys: ``img`` (base_size x 3 uint8, BGR), ``img_path`` (for errors).
    Added / modified keys: ``img`` (context, (Hc, Wc, 3) uint8), ``exemplars``
    ((N, He, We, 3) uint8), ``correlation_maps`` ((N, Hc, Wc) uint8 in {0, 1}).

    Args:
        exemplar_pipeline (list[dict], optional): transforms applied to each exemplar.
        **sampler_args: arguments of :class:`CIMExemplarSampler` (base_size,
            context_size, exemplar_size, num_exemplars, scale_range, ratio_range,
            rotation_range).
    """

    def __init__(self, exemplar_pipeline: Optional[List[dict]] = None, **sampler_args) -> None:
        super().__init__()
        self.sampler = CIMExemplarSampler(**sampler_args)
        self.exemplar_pipeline = Compose(DEFAULT_EXEMPLAR_PIPELINE if exemplar_pipeline is None
                                         else exemplar_pipeline)

    def transform(self, results: dict) -> dict:
        image = results['img']
        expected = (*self.sampler.base_size, 3)
        if image.ndim != 3 or image.shape != expected:
            raise ValueError(f'{results.get("img_path", "<unknown image>")}: CIM needs a '
                             f'{expected} base image (RandomResizedCrop to base_size '
                             f'first), got shape {image.shape}')
        base = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
        contexts, exemplars, maps = self.sampler(base)
        to_uint8 = lambda t: t.round().clamp(0, 255).to(torch.uint8)  # noqa: E731
        exemplar_images = to_uint8(exemplars[0]).permute(0, 2, 3, 1).numpy()
        augmented = [self.exemplar_pipeline(dict(img=np.ascontiguousarray(e)))['img']
                     for e in exemplar_images]
        results['img'] = to_uint8(contexts[0]).permute(1, 2, 0).numpy()
        results['img_shape'] = results['img'].shape[:2]
        results['exemplars'] = np.stack(augmented)
        results['correlation_maps'] = maps[0].numpy().astype(np.uint8)
        return results

    def __repr__(self) -> str:
        s = self.sampler
        return (f'{self.__class__.__name__}(context_size={s.context_size}, '
                f'exemplar_size={s.exemplar_size}, num_exemplars={s.num_exemplars}, '
                f'scale_range={s.scale_range}, ratio_range={s.ratio_range}, '
                f'rotation_range={s.rotation_range})')


@TRANSFORMS.register_module()
class PackCIMInputs(BaseTransform):
    """Pack the CPU path's output: inputs = [context (3, Hc, Wc), exemplars (N, 3, He, We),
    maps (N, Hc, Wc)] uint8 tensors, which ``default_collate`` batches."""

    def transform(self, results: dict) -> dict:
        context = torch.from_numpy(np.ascontiguousarray(results['img'])).permute(2, 0, 1)
        exemplars = torch.from_numpy(results['exemplars']).permute(0, 3, 1, 2).contiguous()
        maps = torch.from_numpy(results['correlation_maps'])
        data_sample = DataSample().set_metainfo(
            {k: results[k] for k in ('img_path', 'ori_shape', 'img_shape') if k in results})
        return dict(inputs=[context, exemplars, maps], data_samples=data_sample)
