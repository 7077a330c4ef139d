"""PQCL's views: global crops and query crops that keep their geometry."""
from typing import Optional, Sequence, Tuple

import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import RandomResizedCrop
from mmpretrain.structures import DataSample

from mmssl_ext.registry import TRANSFORMS
from mmssl_ext.structures import query_patch_coords
from .block_mask import BlockwiseMaskGenerator


@TRANSFORMS.register_module()
class PQCLViews(BaseTransform):
    """Global views, query crops, their relative positions and iBOT masks of one image.

    mmpretrain's ``MultiView`` keeps only the pixels; PQCL needs each crop's box and
    flip. Every view is a random resized crop (mmpretrain's ``RandomResizedCrop``
    sampler, area ``scale`` x image, aspect ratio in ``ratio``) of the original image;
    global views are then flipped with probability ``flip_prob``; query crops never.
    For each (global view g, query crop q) pair, :func:`query_patch_coords` gives the
    position of every query patch in g's patch grid, mirrored when g was flipped (the
    reference forgets the flip). Colour augmentations are left to
    :class:`PQCLDataPreprocessor`, which runs them batched on the training device.

    Masks (iBOT): each global view is left unmasked with probability ``1 -
    mask_prob``; otherwise a ratio r ~ U(mask_ratio) is drawn and BEiT blocks of at
    least ``min_mask_patches`` patches (iBOT: ``(min(H, W) // 3) ** 2``, 16 on 14 x 14)
    are added while they fit within r * H * W patches, stopping after 10 failed
    draws in a row, as iBOT's loader (:class:`BlockwiseMaskGenerator` with
    ``exact=False``): fewer, larger blocks than BEiT's 4-patch minimum, and usually a
    little fewer masked patches than the target.

    Required keys: ``img`` ((H, W, 3) uint8). Added keys: ``global_views`` ((G, S, S,
    3) uint8), ``query_views`` ((Q, s, s, 3) uint8), ``query_coords`` ((G, Q, h_q *
    w_q, 2) float32 (x, y)), ``masks`` ((G, S / p, S / p) bool, True = masked),
    ``global_boxes`` ((G, 4)), ``query_boxes`` ((Q, 4)) as (top, left, h, w) in
    original pixels, ``global_flips`` ((G,) bool).

    Args:
        global_size (int): S, side of the global views. Defaults to 224.
        query_size (int): s, side of the query crops. Defaults to 96.
        patch_size (int): p, patch size of the backbone. Defaults to 16.
        num_global_views (int): G >= 2 (DINO's cross-view loss). Defaults to 2.
        num_queries (int): Q >= 1. Defaults to 1.
        global_scale, query_scale (Sequence[float]): crop area ranges. Defaults to
            (0.25, 1.0) and (0.05, 0.25).
        ratio (Sequence[float]): aspect-ratio range. Defaults to (3/4, 4/3).
        flip_prob (float): flip probability of a global view. Defaults to 0.5.
        mask_prob (float): probability that a global view is masked. Defaults to 0.5.
        mask_ratio (Sequence[float]): range of the masked fraction. Defaults to
            (0.1, 0.5).
        min_mask_patches (int, optional): smallest mask block area drawn; None
            (default) is iBOT's ``(min(H, W) // 3) ** 2``.
        query_inside (bool): redraw a query box (up to ``max_query_attempts`` times,
            then keep the last draw) until it lies inside every global view. The
            reference does not check (most of its query crops stick out of a global
            view). Defaults to False.
        max_query_attempts (int): draws allowed with ``query_inside``. Defaults to 10.
        interpolation (str): resize interpolation. Defaults to 'bicubic'.
        backend (str): resize backend. Defaults to 'pillow'.
    """

    def __init__(self,
                 global_size: int = 224,
                 query_size: int = 96,
                 patch_size: int = 16,
                 num_global_views: int = 2,
                 num_queries: int = 1,
                 global_scale: Sequence[float] = (0.25, 1.0),
                 query_scale: Sequence[float] = (0.05, 0.25),
                 ratio: Sequence[float] = (3. / 4., 4. / 3.),
                 flip_prob: float = 0.5,
                 mask_prob: float = 0.5,
                 mask_ratio: Sequence[float] = (0.1, 0.5),
                 min_mask_patches: Optional[int] = None,
                 query_inside: bool = False,
                 max_query_attempts: int = 10,
                 interpolation: str = 'bicubic',
                 backend: str = 'pillow') -> None:
        super().__init__()
        for name, size in (('global_size', global_size), ('query_size', query_size)):
            if size % patch_size or size < patch_size:
                raise ValueError(f'{name} ({size}) must be a positive multiple of '
                                 f'patch_size ({patch_size})')
        if query_size > global_size:
            raise ValueError(f'query_size ({query_size}) must not exceed global_size '
                             f'({global_size}): the query grid {query_size // patch_size}'
                             f' would be larger than the global grid '
                             f'{global_size // patch_size}')
        if num_global_views < 2:
            raise ValueError(f'num_global_views must be >= 2, got {num_global_views}')
        if num_queries < 1:
            raise ValueError(f'num_queries must be >= 1, got {num_queries}')
        if not 0. <= mask_prob <= 1. or not 0. <= flip_prob <= 1.:
            raise ValueError(f'mask_prob and flip_prob must be in [0, 1], got {mask_prob}'
                             f' and {flip_prob}')
        if max_query_attempts < 1:
            raise ValueError(f'max_query_attempts must be >= 1, got {max_query_attempts}')
        if not 0. < mask_ratio[0] <= mask_ratio[1] < 1.:
            raise ValueError(f'mask_ratio must be (low, high) in (0, 1), got {mask_ratio}')
        self.grid = (global_size // patch_size, ) * 2
        self.query_grid = (query_size // patch_size, ) * 2
        self.num_global_views, self.num_queries = num_global_views, num_queries
        self.flip_prob, self.mask_prob = flip_prob, mask_prob
        if min_mask_patches is None:
            min_mask_patches = (min(self.grid) // 3)**2
        if not 1 <= min_mask_patches <= (self.grid[0] - 1) * (self.grid[1] - 1):
            raise ValueError(f'min_mask_patches must be in [1, '
                             f'{(self.grid[0] - 1) * (self.grid[1] - 1)}] for a '
                             f'{self.grid[0]} x {self.grid[1]} grid, got {min_mask_patches}')
        self.mask_ratio, self.min_mask_patches = tuple(mask_ratio), min_mask_patches
        self.query_attempts = max_query_attempts if query_inside else 1
        self.global_crop = RandomResizedCrop(
            global_size, crop_ratio_range=tuple(global_scale), aspect_ratio_range=tuple(ratio),
            interpolation=interpolation, backend=backend)
        self.query_crop = RandomResizedCrop(
            query_size, crop_ratio_range=tuple(query_scale), aspect_ratio_range=tuple(ratio),
            interpolation=interpolation, backend=backend)

    @staticmethod
    def _crop(image: np.ndarray, crop: RandomResizedCrop,
              box: Optional[Sequence[float]] = None) -> Tuple[np.ndarray, np.ndarray]:
        """A resized crop of ``box`` (random if None) and its (top, left, h, w) box."""
        top, left, height, width = map(int, box if box is not None
                                       else crop.rand_crop_params(image))
        patch = mmcv.imcrop(image, np.array([left, top, left + width - 1, top + height - 1]))
        patch = mmcv.imresize(patch, tuple(crop.scale), interpolation=crop.interpolation,
                              backend=crop.backend)
        return patch, np.array([top, left, height, width], dtype=np.float32)

    def _query_box(self, image: np.ndarray, global_boxes: Sequence[np.ndarray]) -> np.ndarray:
        """A query box, inside every global box when ``query_inside`` (if found)."""
        for _ in range(self.query_attempts):
            top, left, height, width = self.query_crop.rand_crop_params(image)
            if all(top >= g_top and left >= g_left and top + height <= g_top + g_h
                   and left + width <= g_left + g_w
                   for g_top, g_left, g_h, g_w in global_boxes):
                break
        return np.array([top, left, height, width])

    def _mask(self) -> np.ndarray:
        """(H, W) bool iBOT mask of one global view."""
        height, width = self.grid
        if np.random.rand() >= self.mask_prob:
            return np.zeros(self.grid, dtype=bool)
        return BlockwiseMaskGenerator((height, width),
                                      mask_ratio=np.random.uniform(*self.mask_ratio),
                                      min_num_patches=self.min_mask_patches,
                                      exact=False).generate()

    def transform(self, results: dict) -> dict:
        image = results['img']
        globals_, global_boxes, flips = [], [], []
        for _ in range(self.num_global_views):
            view, box = self._crop(image, self.global_crop)
            flip = bool(np.random.rand() < self.flip_prob)
            globals_.append(np.ascontiguousarray(view[:, ::-1]) if flip else view)
            global_boxes.append(box)
            flips.append(flip)
        queries, query_boxes = zip(*(
            self._crop(image, self.query_crop, self._query_box(image, global_boxes))
            for _ in range(self.num_queries)))
        coords = [[query_patch_coords(q_box, g_box, flip, self.grid, self.query_grid)
                   for q_box in query_boxes] for g_box, flip in zip(global_boxes, flips)]
        results['global_views'] = np.stack(globals_)
        results['query_views'] = np.stack(queries)
        results['query_coords'] = torch.stack([torch.stack(c) for c in coords]).numpy()
        results['masks'] = np.stack([self._mask() for _ in range(self.num_global_views)])
        results['global_boxes'] = np.stack(global_boxes)
        results['query_boxes'] = np.stack(query_boxes)
        results['global_flips'] = np.array(flips)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(grid={self.grid}, query_grid={self.query_grid}, '
                f'num_global_views={self.num_global_views}, '
                f'num_queries={self.num_queries}, flip_prob={self.flip_prob}, '
                f'mask_prob={self.mask_prob}, mask_ratio={self.mask_ratio})')


@TRANSFORMS.register_module()
class PackPQCLInputs(BaseTransform):
    """Pack :class:`PQCLViews`' output: inputs = [global views (G, 3, S, S) uint8,
    query crops (Q, 3, s, s) uint8], which ``default_collate`` batches; the data sample
    carries ``query_coords`` ((G, Q, n, 2) float) and ``mask`` ((G, H, W) bool, the
    iBOT masks), and boxes and flips in its metainfo."""

    def transform(self, results: dict) -> dict:
        to_chw = lambda a: torch.from_numpy(a).permute(0, 3, 1, 2).contiguous()  # noqa: E731
        inputs = [to_chw(results['global_views']), to_chw(results['query_views'])]
        keys = ('img_path', 'ori_shape', 'global_boxes', 'query_boxes', 'global_flips')
        data_sample = DataSample(metainfo={k: results[k] for k in keys if k in results})
        data_sample.set_field(torch.from_numpy(results['query_coords']), 'query_coords')
        data_sample.set_field(torch.from_numpy(results['masks']), 'mask')
        return dict(inputs=inputs, data_samples=data_sample)
