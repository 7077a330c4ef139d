from typing import Optional

from mmcv.transforms import LoadImageFromFile

from mmssl_ext.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CheckedLoadImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that names the file it cannot use.

    mmcv re-raises the decoder's error for an empty or corrupt file (a bare
    ``cv2.error: !buf.empty()``) and accepts degenerate images such as 1x1 pixel,
    which random resized crops then blow up into flat training views. This transform
    raises an ``OSError`` naming ``img_path`` for the first, and a ``ValueError`` naming
    the file and ``min_size`` for the second. With ``ignore_empty=True`` an unreadable
    file is skipped instead, as in mmcv (the dataset fetches another sample).

    Args:
        min_size (int): smallest accepted image side in pixels. Defaults to 2.
        **kwargs: :class:`mmcv.transforms.LoadImageFromFile` arguments.
    """

    def __init__(self, min_size: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(min_size, int) or min_size < 1:
            raise ValueError(f'min_size must be a positive int, got {min_size!r}')
        self.min_size = min_size

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            loaded = super().transform(results)
        except Exception as error:
            raise OSError(f'cannot read image {filename}: {error}') from error
        if loaded is None:
            return None
        height, width = loaded['img_shape']
        if min(height, width) < self.min_size:
            raise ValueError(f'image {filename} is {height}x{width} px, smaller than '
                             f'min_size={self.min_size}')
        return loaded
