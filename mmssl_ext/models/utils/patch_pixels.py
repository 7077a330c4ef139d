"""Per-patch normalised pixel targets (MAE's ``norm_pix_loss`` target)."""
import torch


def normalized_patch_pixels(images: torch.Tensor, patch_size: int,
                            eps: float = 1e-6) -> torch.Tensor:
    """Cut images into patches and normalise each patch to zero mean, unit variance.

    Args:
        images (Tensor): (B, 3, H, W), H and W multiples of ``patch_size``.
        patch_size (int): p.
        eps (float): added to the variance. Defaults to 1e-6 (MAE).

    Returns:
        Tensor: (B, N, p*p*3) float32, patches in raster order, each patch's values in
        (row, column, channel) order, normalised over its p*p*3 values (unbiased
        variance, as MAE).
    """
    batch, channels, height, width = images.shape
    if height % patch_size or width % patch_size:
        raise ValueError(f'image size {(height, width)} is not a multiple of the patch '
                         f'size {patch_size}')
    patches = images.float().view(batch, channels, height // patch_size, patch_size,
                                  width // patch_size, patch_size)
    patches = patches.permute(0, 2, 4, 3, 5, 1).reshape(batch, -1, patch_size**2 * channels)
    mean = patches.mean(-1, keepdim=True)
    var = patches.var(-1, keepdim=True)
    return (patches - mean) / (var + eps).sqrt()
