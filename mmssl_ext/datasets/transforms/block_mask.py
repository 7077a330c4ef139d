"""Block-wise patch masks (BEiT): an exact number of masked patches (CAE), or BEiT's /
iBOT's rule that stops when blocks no longer fit."""
import math
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmssl_ext.registry import TRANSFORMS

#: Block draws allowed for one mask before giving up (the expected number is ~10).
MAX_DRAWS = 10000
#: Failed draws in a row after which BEiT / iBOT stop adding blocks (``exact=False``).
BEIT_ATTEMPTS = 10


@TRANSFORMS.register_module()
class BlockwiseMaskGenerator(BaseTransform):
    """BEiT's block-wise masking, masking EXACTLY ``num_masking_patches`` patches.

    Rectangular blocks are added until the count is reached: each block draws an area
    ``U(min_num_patches, remaining)``, a log-uniform aspect ratio in ``[min_aspect,
    max_aspect]`` and a top-left corner uniformly over EVERY offset at which the block
    fits (mmpretrain's ``BEiTMaskGenerator`` draws with an exclusive upper bound and
    never touches the last row / column); a block is kept when it adds between 1 and
    ``remaining`` new patches. Blocks are at most ``(h - 1) x (w - 1)``, as in the
    reference. Every image gets the same count, so the visible tokens of a batch can be
    gathered into a dense ``(B, N - num_masking_patches, C)`` tensor.

    ``exact=False`` is BEiT's and iBOT's own stopping rule instead: when 10 draws in a
    row add no block, the mask is returned as it is, usually with fewer than
    ``num_masking_patches`` patches; the areas are then drawn from ``U(min_num_patches,
    remaining)`` even when fewer than ``min_num_patches`` remain, and with ``mask_ratio``
    the budget is the unrounded ``mask_ratio * h * w`` (iBOT).

    Added key: ``mask``, an (h, w) bool array, True = masked.

    Args:
        input_size (int | Sequence[int]): patch grid (h, w). Defaults to 14.
        num_masking_patches (int, optional): patches masked per image.
        mask_ratio (float, optional): alternative to ``num_masking_patches``: the count
            is ``round(mask_ratio * h * w)``. Give exactly one of the two.
        min_num_patches (int): smallest block area drawn. Defaults to 16 (CAE).
        max_num_patches (int, optional): largest block area drawn; defaults to the
            number still to mask.
        min_aspect (float): smallest block aspect ratio. Defaults to 0.3.
        max_aspect (float, optional): largest aspect ratio; ``1 / min_aspect`` if None.
        exact (bool): mask exactly ``num_masking_patches``. Defaults to True.
    """

    def __init__(self,
                 input_size: Union[int, Sequence[int]] = 14,
                 num_masking_patches: Optional[int] = None,
                 mask_ratio: Optional[float] = None,
                 min_num_patches: int = 16,
                 max_num_patches: Optional[int] = None,
                 min_aspect: float = 0.3,
                 max_aspect: Optional[float] = None,
                 exact: bool = True) -> None:
        super().__init__()
        height, width = (input_size, input_size) if isinstance(input_size, int) \
            else tuple(input_size)
        if height < 2 or width < 2:
            raise ValueError(f'input_size must be at least 2 x 2 patches, got {input_size}')
        num_patches = height * width
        if (num_masking_patches is None) == (mask_ratio is None):
            raise ValueError('give exactly one of num_masking_patches and mask_ratio')
        if mask_ratio is not None:
            if not 0. < mask_ratio < 1.:
                raise ValueError(f'mask_ratio must be in (0, 1), got {mask_ratio}')
            num_masking_patches = int(round(mask_ratio * num_patches))
        if not 0 < num_masking_patches < num_patches:
            raise ValueError(f'num_masking_patches must be in [1, {num_patches - 1}] for a '
                             f'{height} x {width} grid, got {num_masking_patches}'
                             + (f' (mask_ratio={mask_ratio})' if mask_ratio is not None
                                else ''))
        largest_block = (height - 1) * (width - 1)
        limit = min(num_masking_patches, largest_block) if exact else largest_block
        if not 1 <= min_num_patches <= limit:
            raise ValueError(
                f'min_num_patches must be in [1, {limit}] (at most '
                + (f'num_masking_patches={num_masking_patches} and ' if exact else '')
                + f'the largest block {height - 1} x {width - 1}), got {min_num_patches}')
        if exact and max_num_patches is not None and max_num_patches < min_num_patches:
            raise ValueError(f'max_num_patches ({max_num_patches}) must be >= '
                             f'min_num_patches ({min_num_patches})')
        if min_aspect <= 0:
            raise ValueError(f'min_aspect must be > 0, got {min_aspect}')
        max_aspect = 1. / min_aspect if max_aspect is None else max_aspect
        if min_aspect > max_aspect:
            raise ValueError(f'need 0 < min_aspect <= max_aspect, got {min_aspect} and '
                             f'{max_aspect}')
        self.grid = (height, width)
        self.num_masking_patches = num_masking_patches
        self.min_num_patches = min_num_patches
        self.max_num_patches = max_num_patches or num_masking_patches
        self.log_aspect_range = (math.log(min_aspect), math.log(max_aspect))
        self.exact = exact
        # iBOT's budget is the unrounded ratio * h * w; no block may exceed it
        self.budget = (mask_ratio * num_patches if mask_ratio is not None and not exact
                       else num_masking_patches)

    def _draw_block(self, remaining: float) -> Optional[Tuple[int, int, int, int]]:
        """A random (top, left, h, w) block of at most (H-1) x (W-1), or None."""
        height, width = self.grid
        area = np.random.uniform(self.min_num_patches, min(remaining, self.max_num_patches))
        aspect = math.exp(np.random.uniform(*self.log_aspect_range))
        block_h = int(round(math.sqrt(area * aspect)))
        block_w = int(round(math.sqrt(area / aspect)))
        if not (0 < block_h < height and 0 < block_w < width):
            return None
        top = np.random.randint(0, height - block_h + 1)
        left = np.random.randint(0, width - block_w + 1)
        return top, left, block_h, block_w

    def generate(self) -> np.ndarray:
        """One (h, w) bool mask with exactly ``num_masking_patches`` True entries (with
        ``exact=False``: at most that many)."""
        mask = np.zeros(self.grid, dtype=bool)
        count = failed = 0
        for _ in range(MAX_DRAWS):
            block = self._draw_block(self.budget - count)
            added = 0
            if block is not None:
                top, left, block_h, block_w = block
                window = mask[top:top + block_h, left:left + block_w]
                added = window.size - int(window.sum())
            if 0 < added <= self.budget - count:
                window[...] = True
                count += added
                failed = 0
                if count == self.budget:
                    return mask
            else:
                failed += 1
                if not self.exact and failed == BEIT_ATTEMPTS:
                    return mask
        raise RuntimeError(f'{self!r} did not reach {self.num_masking_patches} masked '
                           f'patches in {MAX_DRAWS} block draws')

    def transform(self, results: dict) -> dict:
        results['mask'] = self.generate()
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_size={self.grid}, '
                f'num_masking_patches={self.num_masking_patches}, '
                f'min_num_patches={self.min_num_patches}, '
                f'max_num_patches={self.max_num_patches}, '
                f'log_aspect_range={self.log_aspect_range}, exact={self.exact})')
