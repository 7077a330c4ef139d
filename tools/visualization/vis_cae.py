"""Draw what a pixel-target CAE checkpoint reconstructs (the paper's Figure 4 idea).

For one image and a few block masks drawn as in training: the original, the masked
input the encoder sees, the decoder's reconstruction of the masked patches, and that
reconstruction with the visible patches pasted back. Predicted patches are per-patch
normalised, so each is shown with the mean and variance of the true patch (as MAE's
visualisation does). Saved as a PNG.

    python tools/visualization/vis_cae.py CONFIG CHECKPOINT IMAGE [--out cae.png]
        [--num-masks 3] [--seed 0]
"""
import argparse

import matplotlib
import numpy as np
import torch
from mmengine.config import Config

import mmssl_ext  # noqa: F401
from mmpretrain.registry import MODELS, TRANSFORMS
from mmssl_ext.utils.checkpoint_kind import load_checked
from mmssl_ext.utils.image import load_square_image

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Visualise CAE reconstructions')
    parser.add_argument('config', help='CAE pre-training config with pixel targets')
    parser.add_argument('checkpoint', help='CAE checkpoint')
    parser.add_argument('image', help='an image file')
    parser.add_argument('--out', default='cae_reconstruction.png', help='output PNG')
    parser.add_argument('--num-masks', type=int, default=3, help='rows: masks drawn')
    parser.add_argument('--seed', type=int, default=0, help='seed of the masks')
    parser.add_argument('--no-checkpoint-check', action='store_true',
                        help='load a checkpoint of another kind (what fits)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    return parser.parse_args()


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, 3, H, W) -> (B, N, p*p*3), the layout of the pixel targets."""
    batch, channels, height, width = images.shape
    patches = images.view(batch, channels, height // patch, patch, width // patch, patch)
    return patches.permute(0, 2, 4, 3, 5, 1).reshape(batch, -1, patch * patch * channels)


def unpatchify(patches: torch.Tensor, patch: int, grid: int) -> torch.Tensor:
    """Inverse of :func:`patchify` for a square grid."""
    batch = patches.shape[0]
    images = patches.view(batch, grid, grid, patch, patch, 3).permute(0, 5, 1, 3, 2, 4)
    return images.reshape(batch, 3, grid * patch, grid * patch)


def mask_generator(cfg: Config):
    """The config's BlockwiseMaskGenerator (same settings as in training)."""
    for step in cfg.train_dataloader.dataset.pipeline:
        if step['type'] == 'BlockwiseMaskGenerator':
            return TRANSFORMS.build(step)
    raise ValueError('the config has no BlockwiseMaskGenerator in its training pipeline')


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    model_cfg = cfg.model.copy()
    model_cfg.setdefault('data_preprocessor', cfg.get('data_preprocessor'))
    model = MODELS.build(model_cfg)
    if model.head.target != 'pixels':
        raise ValueError('the visualiser needs a pixel-target CAE (head.target=pixels)')
    load_checked(model, args.checkpoint, check=not args.no_checkpoint_check)
    model = model.to(args.device).eval()
    patch = model.backbone.patch_embed.projection.kernel_size[0]
    size = model.backbone.img_size[0]
    grid = size // patch

    np.random.seed(args.seed)
    generator = mask_generator(cfg)
    masks = torch.from_numpy(np.stack([generator.generate() for _ in range(args.num_masks)]))
    masks = masks.flatten(1).to(args.device)  # (M, N)

    bgr = load_square_image(args.image, size)
    rgb = torch.from_numpy(bgr[..., ::-1].copy()).permute(2, 0, 1).float()[None]
    preprocessor = model.data_preprocessor
    images = ((rgb.to(args.device) - preprocessor.mean) / preprocessor.std).expand(
        args.num_masks, -1, -1, -1)
    with torch.no_grad():
        visible = model.backbone(images, masks)
        _, predictions = model.neck(visible[:, 1:], masks)
    true_patches = patchify(images, patch)
    mean = true_patches.mean(-1, keepdim=True)
    std = (true_patches.var(-1, keepdim=True) + 1e-6).sqrt()
    predicted = torch.zeros_like(true_patches)
    predicted[masks] = (predictions * std[masks].view_as(predictions[..., :1])
                        + mean[masks].view_as(predictions[..., :1])).flatten(0, 1)
    pasted = torch.where(masks[..., None], predicted, true_patches)
    masked_input = torch.where(masks[..., None], torch.zeros_like(true_patches), true_patches)

    def to_rgb(patches: torch.Tensor) -> np.ndarray:
        image = unpatchify(patches, patch, grid) * preprocessor.std + preprocessor.mean
        return image.clamp(0, 255).byte().permute(0, 2, 3, 1).cpu().numpy()

    panels = {'original': to_rgb(true_patches), 'masked input': to_rgb(masked_input),
              'reconstruction': to_rgb(predicted), 'reconstruction + visible': to_rgb(pasted)}
    figure, axes = plt.subplots(args.num_masks, 4, figsize=(10, 2.6 * args.num_masks),
                                squeeze=False)
    for row in range(args.num_masks):
        for column, (title, pictures) in enumerate(panels.items()):
            axes[row, column].imshow(pictures[row])
            axes[row, column].axis('off')
            if row == 0:
                axes[row, column].set_title(title)
    figure.tight_layout()
    figure.savefig(args.out, dpi=100)
    print(args.out)


if __name__ == '__main__':
    main()
