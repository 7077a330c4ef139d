"""PQCL's data preprocessor: per-view colour augmentation batched on the device."""
from typing import Optional, Sequence

import torch

from mmssl_ext.registry import MODELS
from .rgb_data_preprocessor import RGBDataPreprocessor
from mmssl_ext.datasets.transforms import BatchPhotometricAugment


@MODELS.register_module()
class PQCLDataPreprocessor(RGBDataPreprocessor):
    """Augment and normalise :class:`PackPQCLInputs` batches.

    Global view g is augmented by ``global_augments[g]`` (BYOL's asymmetric pipelines
    by default: view 1 always blurred, view 2 blurred with p=0.1 and solarized with
    p=0.2), the query crops by ``query_augment`` (jitter / grayscale, blur p=0.5), each
    a :class:`BatchPhotometricAugment` drawing per-sample parameters. Flips were drawn
    with the crops (their geometry is in the query coordinates), so every augment must
    have ``flip_prob=0``.

    Output: ``inputs = [global views (B, G, 3, S, S), query crops (B, Q, 3, s, s)]``
    normalised RGB; the data samples keep their ``query_coords`` ((G, Q, n, 2)) and
    ``mask`` ((G, h, w)) from :class:`PackPQCLInputs`.

    Args:
        mean, std (Sequence[float]): RGB normalisation. Defaults to ImageNet's.
        to_rgb (bool): inputs are BGR (cv2 decoding). Defaults to True.
        global_augments (Sequence[dict], optional): one ``BatchPhotometricAugment``
            config per global view.
        query_augment (dict, optional): ``BatchPhotometricAugment`` config.
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 to_rgb: bool = True,
                 global_augments: Optional[Sequence[dict]] = None,
                 query_augment: Optional[dict] = None) -> None:
        super().__init__(mean, std, to_rgb)
        if global_augments is None:
            global_augments = [dict(blur_prob=1.0, solarize_prob=0., flip_prob=0.),
                               dict(blur_prob=0.1, solarize_prob=0.2, flip_prob=0.)]
        if len(global_augments) < 2:
            raise ValueError(f'global_augments needs one config per global view (>= 2), '
                             f'got {len(global_augments)}')
        query_augment = query_augment or dict(blur_prob=0.5, solarize_prob=0., flip_prob=0.)
        named = [(f'global_augments[{i}]', cfg) for i, cfg in enumerate(global_augments)]
        for name, cfg in named + [('query_augment', query_augment)]:
            if cfg.get('flip_prob', 0.5) != 0:
                raise ValueError(f'{name}.flip_prob must be 0: PQCLViews flips the global '
                                 'views with their geometry')
        self.global_augments = torch.nn.ModuleList(
            BatchPhotometricAugment(**cfg) for cfg in global_augments)
        self.query_augment = BatchPhotometricAugment(**query_augment)

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        global_views, queries = data['inputs']
        if global_views.shape[1] != len(self.global_augments):
            raise ValueError(f'{global_views.shape[1]} global views but '
                             f'{len(self.global_augments)} global_augments')
        with torch.autocast(global_views.device.type, enabled=False):
            global_views, queries = self.rgb(global_views), self.rgb(queries)
            global_views = torch.stack([augment(global_views[:, g]) for g, augment in
                                        enumerate(self.global_augments)], dim=1)
            queries = self.query_augment(queries.flatten(0, 1)).view_as(queries)
        return dict(inputs=[self.standardize(global_views), self.standardize(queries)],
                    data_samples=data.get('data_samples'))
