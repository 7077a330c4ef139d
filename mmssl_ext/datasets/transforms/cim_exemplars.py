"""CIM's pretext task on the CPU, inside the data pipeline (one image at a time)."""
from typing import Optional

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.structures import DataSample

from mmssl_ext.registry import TRANSFORMS
from .batch_augment import BatchPhotometricAugment
from .cim_exemplar_sampler import CIMExemplarSampler


@TRANSFORMS.register_module()
class SampleCIMExemplars(BaseTransform):
    """Make CIM's context, exemplars and correlation maps from one base image (CPU path).

    Use after ``RandomResizedCrop(224)`` + ``RandomFlip``. The geometry is
    :class:`CIMExemplarSampler` and the exemplar-only augmentation is
    :class:`BatchPhotometricAugment` over the N exemplars at once: the very code the
    device path (:class:`CIMDataPreprocessor`) runs for a whole batch, so both paths
    draw from the same distribution. The maps are never flipped.

    Why not mmpretrain's ``ColorJitter``: with numpy >= 2, mmcv 2.1's ``adjust_hue``
    raises ``OverflowError`` for every negative hue factor (``np.uint8(-x)``), i.e. for
    half of the draws of the reference's ``hue=0.1`` (both of its backends).

    Required keys: ``img`` (base_size x 3 uint8, BGR), ``img_path`` (for errors).
    Modified / added keys: ``img`` (context, (Hc, Wc, 3) uint8), ``exemplars``
    ((N, He, We, 3) uint8), ``correlation_maps`` ((N, Hc, Wc) uint8 in {0, 1}).

    Args:
        exemplar_augment (dict, optional): :class:`BatchPhotometricAugment` arguments;
            defaults to the reference's exemplar augmentation.
        to_rgb (bool): whether ``img`` is BGR (augment in RGB, as the device path).
            Defaults to True.
        **sampler_args: :class:`CIMExemplarSampler` arguments (base_size,
            context_size, exemplar_size, num_exemplars, scale_range, ratio_range,
            rotation_range).
    """

    def __init__(self, exemplar_augment: Optional[dict] = None, to_rgb: bool = True,
                 **sampler_args) -> None:
        super().__init__()
        self.sampler = CIMExemplarSampler(**sampler_args)
        self.exemplar_augment = BatchPhotometricAugment(**(exemplar_augment or {}))
        self.to_rgb = to_rgb

    def transform(self, results: dict) -> dict:
        image = results['img']
        expected = (*self.sampler.base_size, 3)
        if image.shape != expected:
            raise ValueError(f'{results.get("img_path", "<unknown image>")}: CIM needs a '
                             f'{expected} base image (RandomResizedCrop to base_size '
                             f'first), got shape {image.shape}')
        base = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
        contexts, exemplars, maps = self.sampler(base)
        exemplars = exemplars[0]
        if self.to_rgb:
            exemplars = self.exemplar_augment(exemplars.flip(1)).flip(1)
        else:
            exemplars = self.exemplar_augment(exemplars)
        to_uint8 = lambda t: t.round().clamp(0, 255).to(torch.uint8)  # noqa: E731
        results['img'] = to_uint8(contexts[0]).permute(1, 2, 0).numpy()
        results['img_shape'] = results['img'].shape[:2]
        results['exemplars'] = to_uint8(exemplars).permute(0, 2, 3, 1).numpy()
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
    """Pack the CPU path's output: inputs = [context (3, Hc, Wc), exemplars (N, 3, He,
    We)] uint8 tensors, which ``default_collate`` batches; the data sample carries the
    (N, Hc, Wc) uint8 ``correlation_maps``."""

    def transform(self, results: dict) -> dict:
        context = torch.from_numpy(np.ascontiguousarray(results['img'])).permute(2, 0, 1)
        exemplars = torch.from_numpy(results['exemplars']).permute(0, 3, 1, 2).contiguous()
        data_sample = DataSample(metainfo={
            k: results[k] for k in ('img_path', 'ori_shape', 'img_shape') if k in results})
        data_sample.set_field(torch.from_numpy(results['correlation_maps']),
                              'correlation_maps')
        return dict(inputs=[context, exemplars], data_samples=data_sample)
